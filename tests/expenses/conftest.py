from __future__ import annotations

import os
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from punchclock.expenses.services import create_starter_categories

ORACLES = Path(
    os.environ.get("PUNCHCLOCK_ORACLES", Path(__file__).resolve().parents[3] / "shared" / "oracles")
)


@pytest.fixture
def categories(agency):
    create_starter_categories(agency.organization)
    return {c.name: c for c in agency.organization.expense_categories.all()}


@pytest.fixture
def ecb_file() -> bytes:
    path = ORACLES / "ecb" / "eurofxref-daily.xml"
    if not path.exists():
        pytest.skip(f"the ECB reference file is missing at {path} (set PUNCHCLOCK_ORACLES)")
    return path.read_bytes()


def png_bytes() -> bytes:
    out = BytesIO()
    Image.new("RGB", (40, 20), "white").save(out, "PNG")
    return out.getvalue()


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages"
        b"/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
