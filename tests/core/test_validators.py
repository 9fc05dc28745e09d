"""Identity and upload validators: clear errors for bad VAT IDs, IBANs, logos."""

from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from punchclock.core.validators import (
    check_logo,
    normalize_bic,
    normalize_iban,
    normalize_vat_id,
    validate_country,
    validate_currency,
    validate_zone,
)


@pytest.mark.parametrize(
    ("raw", "compact"),
    [("DE 812 345 673", "DE812345673"), ("fr44732829320", "FR44732829320"), ("", "")],
)
def test_valid_vat_ids_are_compacted(raw, compact):
    assert normalize_vat_id(raw) == compact


@pytest.mark.parametrize("bad", ["DE812345674", "XX123", "12345", "FR00732829320"])
def test_invalid_vat_ids_are_refused(bad):
    with pytest.raises(ValidationError, match="VAT ID"):
        normalize_vat_id(bad)


def test_iban_and_bic():
    assert normalize_iban("de89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    with pytest.raises(ValidationError, match="IBAN"):
        normalize_iban("DE89370400440532013001")
    assert normalize_bic("cobadeffxxx") == "COBADEFFXXX"
    with pytest.raises(ValidationError, match="BIC"):
        normalize_bic("NOTABIC!")


@pytest.mark.parametrize(
    ("validator", "good", "bad"),
    [
        (validate_currency, "EUR", "EURO"),
        (validate_country, "DE", "DEU"),
        (validate_zone, "Europe/Berlin", "Europe/Atlantis"),
    ],
)
def test_codes(validator, good, bad):
    validator(good)
    with pytest.raises(ValidationError):
        validator(bad)


def _png() -> bytes:
    out = BytesIO()
    Image.new("RGB", (8, 8), "teal").save(out, "PNG")
    return out.getvalue()


def test_logo_content_decides_not_the_name():
    assert check_logo(_png(), "logo.txt") == "png"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    assert check_logo(svg, "logo.png") == "svg"
    with pytest.raises(ValidationError, match="not a PNG or SVG"):
        check_logo(b"GIF89a....", "logo.png")


def test_damaged_png_is_refused():
    with pytest.raises(ValidationError, match="damaged"):
        check_logo(_png()[:30], "logo.png")


@pytest.mark.parametrize(
    "svg",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><svg/>',
    ],
)
def test_active_svg_is_refused(svg):
    with pytest.raises(ValidationError, match="scripts"):
        check_logo(svg, "logo.svg")


def test_oversize_logo_is_refused(settings):
    settings.LOGO_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="limit"):
        check_logo(_png() + b"\0" * 200, "logo.png")
