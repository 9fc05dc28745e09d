"""Walk the API's own OpenAPI document, so tests cover every route without listing them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from ninja.responses import NinjaJSONEncoder

from punchclock.api.api import api

PREFIX = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {placeholders}, relative to /api/v1
    operation: dict[str, Any]

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def required_query_params(self) -> list[str]:
        return [
            p["name"]
            for p in self.operation.get("parameters", [])
            if p["in"] == "query" and p.get("required")
        ]

    def body_schema(self) -> dict[str, Any] | None:
        content = self.operation.get("requestBody", {}).get("content", {})
        media = content.get("application/json")
        return resolve(media["schema"]) if media else None

    def fill(self, ids: dict[str, int]) -> str:
        return re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), self.path)


@cache
def document() -> dict[str, Any]:
    """Built once per test run: generating it takes a few hundred milliseconds."""
    # Through JSON, as clients read it (status codes become strings, for one).
    schema = api.get_openapi_schema(path_prefix=PREFIX + "/")
    return json.loads(json.dumps(schema, cls=NinjaJSONEncoder))


def routes() -> Iterator[Route]:
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            if method in METHODS:
                yield Route(method, path.removeprefix(PREFIX), operation)


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return resolve(document()["components"]["schemas"][name])
    return schema


def sample(schema: dict[str, Any]) -> Any:
    """A value the schema accepts: required properties only, the first enum or type option."""
    schema = resolve(schema)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            options = [o for o in schema[combinator] if resolve(o).get("type") != "null"]
            return sample(options[0])
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: sample(properties[name]) for name in schema.get("required", [])}
    if kind == "string":
        return {"date": "2099-01-01", "date-time": "2099-01-01T00:00:00Z"}.get(
            schema.get("format", ""), "x"
        )
    if kind == "integer":
        return 1
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    raise AssertionError(f"no sample for schema {schema}")
