"""The versioned REST API, mounted at /api/v1/: token auth, one error body, app routers."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponseBase
from django.urls import URLPattern, URLResolver, register_converter
from ninja import NinjaAPI, Router, Swagger
from ninja.operation import Operation
from ninja.parser import Parser

from punchclock.accounts.api import router as accounts_router
from punchclock.api import errors
from punchclock.api.auth import TokenAuth
from punchclock.automation.api import router as automation_router
from punchclock.automation.notification_api import router as notifications_router
from punchclock.automation.recurring_api import router as recurring_router
from punchclock.automation.reminder_api import router as reminders_router
from punchclock.automation.retainer_api import router as retainer_router
from punchclock.clients.api import router as clients_router
from punchclock.expenses.api import router as expenses_router
from punchclock.invoicing.api import router as invoicing_router
from punchclock.payments.api import router as payments_router
from punchclock.payments.api_bank import router as bank_router
from punchclock.payments.api_receivables import router as receivables_router
from punchclock.projects.api import router as projects_router
from punchclock.reports.api import router as reports_router
from punchclock.reports.api_more import router as reports_more_router
from punchclock.reports.api_unbilled import router as reports_unbilled_router
from punchclock.tracking.api import router as tracking_router

DESCRIPTION = """
Punchclock's REST API. Authenticate with a personal API token:
`Authorization: Bearer pc_…`. Read tokens may only use GET; write tokens may also change
data. Every error has the body `{"detail": "…", "errors": [{"field": "…", "message": "…"}]}`.
Lists take `limit` (at most 200) and `offset` and answer `{"items": [...], "count": n}`.
Money amounts are decimal strings, dates ISO 8601, instants ISO 8601 with an offset.
See docs/api.md.
"""


class IdConverter:
    """A positive database id in a path; longer numbers cannot be ids and so 404."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

# Fractions beyond this exponent are no amount anyone bills; as floats they become inf or 0,
# which validation refuses, instead of a Decimal that int() would spend minutes expanding.
_MAX_EXPONENT = 40


def _json_fraction(text: str) -> Decimal | float:
    value = Decimal(text)
    return float(text) if abs(value.adjusted()) > _MAX_EXPONENT else value


def _json_integer(text: str) -> int | float:
    return float(text) if len(text) > _MAX_EXPONENT else int(text)


class JSONParser(Parser):
    """JSON bodies with numbers parsed exactly: 95.10 becomes Decimal("95.10"), never a float."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            return json.loads(request.body, parse_float=_json_fraction, parse_int=_json_integer)
        except (ValueError, RecursionError) as exc:
            raise errors.BodyNotJSON(str(exc) or "nested too deeply") from exc


class PunchclockAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # The endpoint function's name (list_clients, create_rate): short and stable.
        return operation.view_func.__name__

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = self._with_json_method_errors(pattern.callback)
        return urls

    def _with_json_method_errors(
        self, view: Callable[..., HttpResponseBase]
    ) -> Callable[..., HttpResponseBase]:
        """Answer HEAD like GET without a body, and a wrong method with the JSON error body."""

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            head = request.method == "HEAD"
            if head:
                request.method = "GET"
            response = view(request, *args, **kwargs)
            if response.status_code == 405 and not response.get("Content-Type", "").startswith(
                "application/json"
            ):
                allowed = ", ".join(sorted(response.get("Allow", "").split(", ")))
                response_405 = errors.error_response(
                    self, request, 405, f"{request.method} is not allowed here; use {allowed}."
                )
                response_405["Allow"] = allowed
                response = response_405
            if head and hasattr(response, "content"):
                response.content = b""
            return response

        return wrapper


api = PunchclockAPI(
    title="Punchclock API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=TokenAuth(),
    parser=JSONParser(),
    # Swagger UI would otherwise send the document's URL to validator.swagger.io for a badge.
    docs=Swagger(settings={"validatorUrl": None}),
)
errors.install(api)

api.add_router("", accounts_router)
api.add_router("", clients_router)
api.add_router("", projects_router)
api.add_router("", tracking_router)
api.add_router("", expenses_router)
api.add_router("", invoicing_router)

# Registered last so that it only sees paths no router claimed: unknown URLs under /api/v1/
# get the JSON error body instead of the HTML 404 page.
fallback = Router()


@fallback.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    "/{path:rest}",
    auth=None,
    include_in_schema=False,
)
def unknown_endpoint(request: HttpRequest, rest: str) -> None:
    raise Http404(f"There is no API endpoint at /api/v1/{rest}.")


api.add_router("", payments_router)
api.add_router("", receivables_router)
api.add_router("", bank_router)
api.add_router("", automation_router)
api.add_router("", retainer_router)
api.add_router("", notifications_router)
api.add_router("", reminders_router)
api.add_router("", recurring_router)
api.add_router("", reports_router)
api.add_router("", reports_more_router)
api.add_router("", reports_unbilled_router)
api.add_router("", fallback)
