"""View decorators: signed in and working inside an organization."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The user is signed in and request.membership is set, else they pick or create one."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "membership", None) is None:
            return redirect("accounts:organization_new")
        return view(request, *args, **kwargs)

    return wrapper
