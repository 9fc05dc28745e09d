"""Stripe's webhook endpoint, and the page where an owner turns online payment on or off."""

from __future__ import annotations

import json
import logging

import stripe
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.core.htmx import is_htmx
from punchclock.payments import stripe_payments

logger = logging.getLogger(__name__)


def _refused(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Verify an event's signature, then store and apply it; nothing is written otherwise."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        return _refused("Stripe webhooks are not set up here (no STRIPE_WEBHOOK_SECRET).")
    signature = request.headers.get("Stripe-Signature")
    if not signature:
        return _refused("No Stripe-Signature header.")
    try:
        stripe.Webhook.construct_event(
            request.body, signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE
        )
    except stripe.SignatureVerificationError as exc:
        return _refused(f"The signature does not verify: {exc.user_message}")
    except ValueError:  # not UTF-8, not JSON, or not an event
        return _refused("The body is not a Stripe event.")
    try:
        outcome = stripe_payments.receive_event(json.loads(request.body))
    except stripe_payments.BadEvent as exc:
        return _refused(str(exc))
    except DatabaseError:
        # Nothing was kept; Stripe delivers the event again later.
        logger.exception("Stripe event could not be stored")
        return JsonResponse({"error": "Busy; try again."}, status=503)
    return JsonResponse({"received": outcome})


def _manager(request: HttpRequest) -> Membership:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    require(membership, "payments.manage")
    return membership


def _mode(secret_key: str) -> str:
    """Live or test, read from the key's prefix (sk_live_…, rk_test_…)."""
    for mode in ("live", "test"):
        if secret_key.startswith((f"sk_{mode}_", f"rk_{mode}_")):
            return mode
    return ""


def _render(
    request: HttpRequest, membership: Membership, *, error: str = "", status: int = 200
) -> HttpResponse:
    secret_key = settings.STRIPE_SECRET_KEY
    context = {
        "secret_key_set": bool(secret_key),
        "mode": _mode(secret_key),
        "webhook_secret_set": bool(settings.STRIPE_WEBHOOK_SECRET),
        "tolerance": settings.STRIPE_WEBHOOK_TOLERANCE,
        "webhook_url": settings.SITE_URL + reverse("payments:stripe_webhook"),
        "events": stripe_payments.HANDLED_EVENTS,
        "enabled": stripe_payments.stripe_enabled(membership.organization_id),
        "error": error,
    }
    template = "payments/stripe/settings.html"
    if is_htmx(request):
        template += "#toggle"
    return render(request, template, context, status=status)


@member_required
def stripe_settings(request: HttpRequest) -> HttpResponse:
    membership = _manager(request)
    if request.method != "POST":
        return _render(request, membership)
    choice = request.POST.get("stripe_enabled")
    if choice not in ("on", "off"):
        return _render(request, membership, error="Choose on or off.", status=400)
    try:
        stripe_payments.set_stripe_enabled(
            membership.organization_id, by=membership, enabled=choice == "on"
        )
    except ValidationError as exc:
        return _render(request, membership, error=" ".join(exc.messages), status=400)
    if is_htmx(request):
        return _render(request, membership)
    messages.success(
        request, "Clients can now pay online." if choice == "on" else "Online payment is off."
    )
    return redirect("payments:stripe_settings")
