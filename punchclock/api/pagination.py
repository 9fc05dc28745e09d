"""Limit/offset pagination: every list answers {"items": [...], "count": <total>}."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db.models import Model, QuerySet
from ninja import Field, Schema
from pydantic import create_model

from punchclock.api.schemas import QuerySchema

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Far beyond any real list, and well inside a 64-bit OFFSET.
MAX_OFFSET = 10**9


class PageQuery(QuerySchema):
    """Paging parameters; each list's filter schema extends this."""

    limit: int = Field(
        DEFAULT_LIMIT,
        ge=1,
        description=f"Items per page; at most {MAX_LIMIT}, larger values are reduced to it.",
    )
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")


def paginate(queryset: QuerySet[Any], query: PageQuery) -> dict[str, Any]:
    """One page of an ordered queryset and the total count: two queries, whatever the size."""
    limit = min(query.limit, MAX_LIMIT)
    items: list[Model] = list(queryset[query.offset : query.offset + limit])
    return {"items": items, "count": queryset.count()}


@cache
def page_of(item: type[Schema]) -> type[Schema]:
    """The response schema of a list of `item`, named e.g. ClientPage in the OpenAPI document."""
    name = item.__name__.removesuffix("Out") + "Page"
    return create_model(name, __base__=Schema, items=(list[item], ...), count=(int, ...))  # type: ignore[valid-type]
