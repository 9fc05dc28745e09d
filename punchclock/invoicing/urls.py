from django.urls import path

from punchclock.invoicing import settings_views, views

app_name = "invoicing"
urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("unbilled/", views.unbilled, name="unbilled"),
    path("verify/", views.verify, name="verify"),
    path("settings/", settings_views.invoice_settings, name="settings"),
    path("settings/template/", settings_views.template_upload, name="template_upload"),
    path("settings/template/remove/", settings_views.template_remove, name="template_remove"),
    path("settings/template.typ", settings_views.template_download, name="template_download"),
    path("settings/email/<str:language>/", settings_views.email_template, name="email_template"),
    path("<int:pk>/", views.invoice_detail, name="detail"),
    path("<int:pk>/lines/add/", views.line_add, name="line_add"),
    path("<int:pk>/discount/", views.discount, name="discount"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/issue/", views.issue, name="issue"),
    path("<int:pk>/credit/", views.credit, name="credit"),
    path("<int:pk>/details/", views.details, name="details"),
    path("<int:pk>/send/", views.send, name="send"),
    path("<int:pk>/einvoice/validate/", views.einvoice_validate, name="einvoice_validate"),
    path("<int:pk>/einvoice/<str:code>/", views.einvoice_download, name="einvoice"),
    path("<int:pk>/pdf/", views.invoice_pdf, name="pdf"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("lines/<int:pk>/edit/", views.line_edit, name="line_edit"),
    path("lines/<int:pk>/delete/", views.line_delete, name="line_delete"),
]
