"""Fixtures of the budget, revenue, tax, utilisation and dashboard tests."""

from __future__ import annotations

from tests.invoicing.conftest import billing, wipe_invoices_after  # noqa: F401 - fixtures
from tests.payments.conftest import frozen_today  # noqa: F401 - fixture
