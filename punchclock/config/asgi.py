"""ASGI entry point (WSGI under gunicorn is the recommended production setup)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "punchclock.config.settings")
application = get_asgi_application()
