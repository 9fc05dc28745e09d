"""Helpers shared by every app's services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


def apply_fields(instance: models.Model, fields: dict[str, Any], allowed: set[str]) -> None:
    """Set the given fields; naming an unknown one is a programming error."""
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"cannot set {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(instance, name, value)


def clean_and_save(instance: models.Model, *, exclude: list[str] | None = None) -> None:
    """Run every model validator and constraint, then save; errors name the fields."""
    instance.full_clean(exclude=exclude)
    instance.save()


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})
