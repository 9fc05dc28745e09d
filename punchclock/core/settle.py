"""Settle a server process once it has loaded: import what every request needs, then take
what is loaded out of the garbage collector's full passes.

A Python process holds a few hundred thousand long-lived objects once Django, the API
schemas and the views are imported. A full collection walks all of them (about 130 ms on a
small server), and a long report creates enough objects to set one off every other request.
Frozen objects are never walked again; they are never freed either, which is what
module-level objects are anyway. Done before gunicorn forks its workers, it also keeps
their memory pages shared.
"""

from __future__ import annotations

import gc


def settle() -> None:
    from django.conf import settings
    from django.urls import get_resolver

    # Resolving the URLconf imports every view module and builds the API's schemas.
    get_resolver(settings.ROOT_URLCONF).url_patterns  # noqa: B018 - imported for its effect
    gc.collect()
    gc.freeze()
