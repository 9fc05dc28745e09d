"""/payments/stripe/: Stripe's webhook and the owner's online payment settings."""

from django.urls import path

from punchclock.payments import stripe_views

urlpatterns = [
    path("webhook/", stripe_views.stripe_webhook, name="stripe_webhook"),
    path("settings/", stripe_views.stripe_settings, name="stripe_settings"),
]
