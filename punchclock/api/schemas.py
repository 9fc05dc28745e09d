"""Building blocks shared by every app's API schemas: input bases, ids, money as text."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from ninja import Field, Schema
from pydantic import ConfigDict, ValidationInfo, field_validator

from punchclock.core.money import minor_units

# Ids are bounded so that no lookup can overflow a 64-bit database integer (SQLite raises
# OverflowError past 2**63 - 1); the path converter in api.py matches at most 18 digits.
MAX_ID = 10**18 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _no_nul(value: Any) -> Any:
    # PostgreSQL refuses NUL characters in text; catching them here keeps that a 422.
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("Text cannot contain NUL characters.")
    return value


def _null_only_where_allowed(schema: dict[str, Any], model: type[Any]) -> None:
    """Document optional fields as omittable, not nullable, unless listed in `nullable`."""
    nullable: frozenset[str] = getattr(model, "nullable", frozenset())
    for name, field in schema.get("properties", {}).items():
        if name in nullable:
            continue
        options = [o for o in field.get("anyOf", []) if o.get("type") != "null"]
        if len(options) == 1:
            del field["anyOf"]
            field.update(options[0])
        elif options:
            field["anyOf"] = options
        if "default" in field and field["default"] is None:
            del field["default"]


class InputSchema(Schema):
    """A request body: unknown fields are refused so a typo never passes silently.

    Optional fields are typed `X | None = None` so that "not sent" reads as None, but an
    explicit null is refused unless the field is in `nullable` (where null clears a value):
    a null in a text column would otherwise reach the database's NOT NULL constraint.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_null_only_where_allowed)
    nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise ValueError("This field cannot be null; leave it out to keep its value.")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _text_without_nul(cls, value: Any) -> Any:
        return _no_nul(value)


class QuerySchema(Schema):
    """Query parameters: unknown ones are ignored (cache busters and the like)."""

    @field_validator("*", mode="after")
    @classmethod
    def _text_without_nul(cls, value: Any) -> Any:
        return _no_nul(value)


def amount_text(amount: Decimal | None, currency: str | None = None) -> str | None:
    """A Decimal as text with at least the currency's decimals and no trailing noise.

    95.0000 stored for EUR reads "95.00"; 95.1250 reads "95.125". No rounding happens here:
    only zeros beyond the currency's minor unit are dropped.
    """
    if amount is None:
        return None
    places = minor_units(currency) if currency else 2
    exponent = amount.normalize().as_tuple().exponent
    digits = max(places, -exponent if isinstance(exponent, int) else 0)
    return format(amount.quantize(Decimal(1).scaleb(-digits)), "f")


def referenced[M: Model](queryset: QuerySet[M], pk: int | None, field: str, noun: str) -> M | None:
    """The object a request body names by id, from a queryset already scoped to the caller.

    An id that is unknown (or another organization's) is bad input, so it is reported as a
    422 on that field; the service then decides whether the caller may use the object.
    """
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: [f"There is no {noun} with id {pk} in your organization."]})
    return found
