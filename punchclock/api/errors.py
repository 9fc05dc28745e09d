"""One JSON error body for every error the API returns, and the handlers that build it.

Every error reads {"detail": "<message>", "errors": [{"field": "<name>", "message": "…"}]}:
services raise Django's ValidationError / PermissionDenied / Http404, ninja raises its own
validation and HTTP errors, and each is mapped here, in one place.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)


class FieldError(Schema):
    field: str | None
    message: str


class ErrorOut(Schema):
    """The body of every error response."""

    detail: str
    errors: list[FieldError] = []


# Documented on every operation, so clients and generated SDKs know the shape.
ERROR_RESPONSES: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


class BodyNotJSON(ValueError):
    """A request body that does not parse as JSON."""


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    detail: str,
    errors: Iterable[tuple[str | None, str]] = (),
) -> HttpResponse:
    body = {"detail": detail, "errors": [{"field": f, "message": m} for f, m in errors]}
    return api.create_response(request, body, status=status)


def _detail_for(errors: Sequence[tuple[str | None, str]]) -> str:
    if not errors:
        return "The request is invalid."
    named = sorted({f for f, _ in errors if f})
    if len(named) > 1:
        return f"Some fields are invalid: {', '.join(named)}."
    field, message = errors[0]
    return f"{field}: {message}" if field and field != "body" else message


# Wrapper names ninja puts in an error's location: where the value came from, and the
# name of the endpoint's body parameter (every body parameter is called payload).
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}
_BODY_PARAMETER = "payload"
_NOT_AN_OBJECT = {"missing", "model_type", "model_attributes_type", "dict_type"}


def _pydantic_errors(errors: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    found: list[tuple[str | None, str]] = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        source = loc[0] if loc and loc[0] in _SOURCES else None
        if source:
            loc = loc[1:]
        if source == "body" and loc and loc[0] == _BODY_PARAMETER:
            loc = loc[1:]
        message = str(error.get("msg", "Invalid value."))
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        if not loc and source == "body" and error.get("type") in _NOT_AN_OBJECT:
            found.append(("body", "The request body must be a JSON object."))
            continue
        found.append((".".join(loc) or source, message))
    return found


def _django_errors(exc: DjangoValidationError) -> list[tuple[str | None, str]]:
    if hasattr(exc, "error_dict"):
        return [
            (None if field == NON_FIELD_ERRORS else field, message)
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [(None, message) for message in exc.messages]


def install(api: NinjaAPI) -> None:
    """Register the handlers; ninja picks the most specific class of each exception."""

    def handle[E: Exception](
        exc_class: type[E], handler: Callable[[HttpRequest, E], HttpResponse]
    ) -> None:
        # ninja types a handler's argument as "exception or exception class"; ours only ever
        # receive instances (ninja raises AuthenticationError() and friends as instances).
        api.add_exception_handler(exc_class, handler)  # type: ignore[arg-type]

    def invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = _pydantic_errors(exc.errors)
        return error_response(api, request, 422, _detail_for(errors), errors)

    def invalid_data(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        errors = _django_errors(exc)
        return error_response(api, request, 422, _detail_for(errors), errors)

    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc, AuthenticationError):
            response = error_response(
                api,
                request,
                401,
                "Authentication required: send a valid API token as "
                "'Authorization: Bearer <token>'.",
            )
            response["WWW-Authenticate"] = 'Bearer realm="api"'
            return response
        cause = exc.__cause__
        if isinstance(cause, BodyNotJSON | json.JSONDecodeError | UnicodeDecodeError):
            return error_response(api, request, 400, f"The request body is not valid JSON: {cause}")
        return error_response(api, request, exc.status_code, str(exc))

    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(api, request, 403, str(exc) or "You may not do this.")

    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return error_response(api, request, 404, str(exc) or "Not found.")

    def conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # Services validate before writing, so reaching this is a bug worth a log line; the
        # client still gets a clear answer instead of a 500.
        logger.warning("IntegrityError escaped a service on %s: %s", request.path, exc)
        return error_response(
            api, request, 409, "This conflicts with existing data; nothing was saved."
        )

    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return error_response(api, request, 413, "The request body is too large.")

    def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return error_response(api, request, 400, "The request could not be processed.")

    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("Unhandled error in API %s %s", request.method, request.path)
        return error_response(api, request, 500, "Something went wrong on our side.")

    handle(NinjaValidationError, invalid_input)
    handle(DjangoValidationError, invalid_data)
    handle(HttpError, http_error)
    handle(PermissionDenied, forbidden)
    handle(Http404, not_found)
    handle(ObjectDoesNotExist, not_found)
    handle(IntegrityError, conflict)
    handle(RequestDataTooBig, too_big)
    handle(SuspiciousOperation, suspicious)
    handle(Exception, unexpected)


def responses(schema: Any, status: int = 200) -> dict[int, Any]:
    """An operation's response map: its success schema plus the documented error body."""
    return {status: schema, **ERROR_RESPONSES}
