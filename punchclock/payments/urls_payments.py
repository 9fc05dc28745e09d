from django.urls import path

from punchclock.payments import views

urlpatterns = [
    path("", views.payment_list, name="list"),
    path("invoice/<int:pk>/record/", views.record, name="record"),
    path("invoice/<int:pk>/credit/", views.use_credit, name="use_credit"),
    path("<int:pk>/refund/", views.refund, name="refund"),
    path("<int:pk>/delete/", views.delete, name="delete"),
]
