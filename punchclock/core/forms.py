"""Small helpers shared by the web forms."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def apply_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form, under the fields it names."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            if field == NON_FIELD_ERRORS:
                target = None
            for message in errors:
                form.add_error(target, message if target else f"{_label(form, field)}{message}")
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _label(form: forms.BaseForm, field: str) -> str:
    if field in (NON_FIELD_ERRORS, "__all__"):
        return ""
    return f"{field.replace('_', ' ').capitalize()}: "
