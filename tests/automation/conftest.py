"""The billing personas of the invoicing tests serve the schedules too."""

from tests.invoicing.conftest import billing, wipe_invoices_after  # noqa: F401 - fixtures
