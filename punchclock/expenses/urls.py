from django.urls import path

from punchclock.expenses import views

app_name = "expenses"
urlpatterns = [
    path("", views.expense_list, name="list"),
    path("new/", views.expense_new, name="new"),
    path("preview/", views.expense_preview, name="preview"),
    path("<int:pk>/", views.expense_detail, name="detail"),
    path("<int:pk>/edit/", views.expense_edit, name="edit"),
    path("<int:pk>/submit/", views.expense_submit, name="submit"),
    path("<int:pk>/decide/", views.expense_decide, name="decide"),
    path("<int:pk>/delete/", views.expense_delete, name="delete"),
    path("receipts/<int:pk>/", views.receipt_file, name="receipt"),
    path("receipts/<int:pk>/remove/", views.receipt_remove, name="receipt_remove"),
    path("approvals/", views.approvals, name="approvals"),
    path("categories/", views.categories, name="categories"),
    path("categories/<int:pk>/edit/", views.category_edit, name="category_edit"),
    path("categories/<int:pk>/archive/", views.category_archive, name="category_archive"),
    path("rates/", views.rates, name="rates"),
    path("rates/import/", views.rates_import, name="rates_import"),
    path("rates/manual/", views.rates_manual, name="rates_manual"),
    path("reimbursements/", views.reimbursements, name="reimbursements"),
    path("reimbursements.csv", views.reimbursements_csv, name="reimbursements_csv"),
]
