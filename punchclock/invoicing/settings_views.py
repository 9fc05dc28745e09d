"""Invoice settings: footer and copies, the organization's own template, email wording."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.core.forms import apply_service_errors
from punchclock.core.validators import SUPPORTED_LOCALES
from punchclock.invoicing import preferences, sending
from punchclock.invoicing.documents.pdf import DEFAULT_TEMPLATE
from punchclock.invoicing.forms import EmailTemplateForm, InvoiceSettingsForm, TemplateUploadForm
from punchclock.invoicing.models import EmailTemplate
from punchclock.invoicing.views import _biller

LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French"}


def _email_forms(organization_id: int, posted: tuple[str, EmailTemplateForm] | None) -> list[Any]:
    saved = {t.language: t for t in EmailTemplate.objects.filter(organization_id=organization_id)}
    rows = []
    for language in sorted(SUPPORTED_LOCALES):
        template = saved.get(language)
        subject, body = (
            (template.subject, template.body) if template else sending.DEFAULT_WORDING[language]
        )
        form = EmailTemplateForm(initial={"subject": subject, "body": body}, prefix=language)
        if posted is not None and posted[0] == language:
            form = posted[1]
        rows.append(
            {
                "language": language,
                "name": LANGUAGE_NAMES.get(language, language),
                "form": form,
                "custom": template is not None,
            }
        )
    return rows


def _page(request: HttpRequest, *, status: int = 200, **overrides: Any) -> HttpResponse:
    membership = _biller(request)
    found = sending.invoice_settings(membership.organization)
    context = {
        "found": found,
        "settings_form": InvoiceSettingsForm(
            initial={"footer_text": found.footer_text, "bcc": found.bcc, "font": found.font}
        ),
        "upload_form": TemplateUploadForm(),
        "email_rows": _email_forms(membership.organization_id, overrides.pop("email", None)),
        "placeholders": sending.PLACEHOLDERS,
    } | overrides
    return render(request, "invoicing/settings.html", context, status=status)


@member_required
def invoice_settings(request: HttpRequest) -> HttpResponse:
    membership = _biller(request)
    if request.method != "POST":
        return _page(request)
    form = InvoiceSettingsForm(request.POST)
    if form.is_valid():
        try:
            preferences.save_settings(membership.organization, by=membership, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Invoice settings saved.")
            return redirect("invoicing:settings")
    return _page(request, status=400, settings_form=form)


@member_required
@require_POST
def template_upload(request: HttpRequest) -> HttpResponse:
    membership = _biller(request)
    form = TemplateUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["template"]
        try:
            preferences.upload_template(
                membership.organization,
                by=membership,
                content=upload.read(preferences.MAX_TEMPLATE_BYTES + 1),
                name=upload.name,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Template {upload.name} works and is now in use.")
            return redirect("invoicing:settings")
    return _page(request, status=400, upload_form=form)


@member_required
@require_POST
def template_remove(request: HttpRequest) -> HttpResponse:
    membership = _biller(request)
    preferences.remove_template(membership.organization, by=membership)
    messages.success(request, "Back to the default design for documents issued from now on.")
    return redirect("invoicing:settings")


@member_required
def template_download(request: HttpRequest) -> HttpResponse:
    """The template in use (the organization's own, or the default) to start from."""
    membership = _biller(request)
    found = sending.invoice_settings(membership.organization)
    source = found.template_source or DEFAULT_TEMPLATE.read_text()
    name = found.template_name or "invoice.typ"
    response = HttpResponse(source, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@member_required
@require_POST
def email_template(request: HttpRequest, language: str) -> HttpResponse:
    membership = _biller(request)
    if language not in SUPPORTED_LOCALES:
        messages.error(request, "No such language.")
        return redirect("invoicing:settings")
    if request.POST.get("reset"):
        preferences.reset_email_template(membership.organization, by=membership, language=language)
        messages.success(request, f"{LANGUAGE_NAMES[language]} email back to the default text.")
        return redirect("invoicing:settings")
    form = EmailTemplateForm(request.POST, prefix=language)
    if form.is_valid():
        try:
            preferences.save_email_template(
                membership.organization, by=membership, language=language, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"{LANGUAGE_NAMES[language]} email saved.")
            return redirect("invoicing:settings")
    return _page(request, status=400, email=(language, form))
