"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "punchclock.config.settings")
application = get_wsgi_application()

from punchclock.core.settle import settle  # noqa: E402 - needs Django set up

settle()
