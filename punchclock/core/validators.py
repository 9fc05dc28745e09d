"""Validators for identities and uploads, shared by forms, the API and services."""

from __future__ import annotations

import re
from io import BytesIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import vatin
from stdnum.exceptions import ValidationError as StdnumError

from punchclock.core.money import is_currency
from punchclock.core.timeutil import is_zone

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
SUPPORTED_LOCALES = {"en", "de", "fr"}


def normalize_vat_id(value: str) -> str:
    """A VAT ID in compact form (DE123456789), or ValidationError naming what is wrong."""
    compact = re.sub(r"[\s.\-]", "", value).upper()
    if not compact:
        return ""
    # Greece's VAT prefix is EL, but stdnum knows it as GR for the country lookup.
    try:
        if not vatin.is_valid(compact):
            raise ValidationError(
                f"“{value}” is not a valid VAT ID (expected country prefix and check digits, "
                "e.g. DE123456788)."
            )
    except StdnumError as exc:
        raise ValidationError(f"“{value}” is not a valid VAT ID: {exc}") from exc
    return compact


def normalize_iban(value: str) -> str:
    compact = re.sub(r"\s", "", value).upper()
    if not compact:
        return ""
    try:
        return IBAN(compact).compact
    except SchwiftyException as exc:
        raise ValidationError(f"“{value}” is not a valid IBAN: {exc}") from exc


def normalize_bic(value: str) -> str:
    compact = re.sub(r"\s", "", value).upper()
    if not compact:
        return ""
    try:
        return str(BIC(compact))
    except SchwiftyException as exc:
        raise ValidationError(f"“{value}” is not a valid BIC: {exc}") from exc


def validate_currency(value: str) -> None:
    if not is_currency(value):
        raise ValidationError(f"“{value}” is not an ISO 4217 currency code (e.g. EUR, USD).")


def validate_country(value: str) -> None:
    from babel import Locale

    if value.upper() not in Locale("en").territories or not re.fullmatch(r"[A-Z]{2}", value):
        raise ValidationError(f"“{value}” is not an ISO 3166 country code (e.g. DE, FR, US).")


def validate_zone(value: str) -> None:
    if not is_zone(value):
        raise ValidationError(f"“{value}” is not a known time zone (e.g. Europe/Berlin).")


def validate_locale(value: str) -> None:
    if value not in SUPPORTED_LOCALES:
        raise ValidationError(
            f"“{value}” is not a supported language "
            f"(one of {', '.join(sorted(SUPPORTED_LOCALES))})."
        )


def split_emails(value: str) -> list[str]:
    """Addresses separated by commas, semicolons or whitespace, without empty parts."""
    return [part for part in re.split(r"[,;\s]+", value.strip()) if part]


def validate_email_list(value: str) -> None:
    """Every address of a comma-separated list is a valid email address."""
    for address in split_emails(value):
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(f"“{address}” is not an email address.") from None


EAS_CODE = re.compile(r"^(EM|AQ|AS|AU|AP|[0-9]{4})$")


def check_electronic_address(address: str, scheme: str) -> tuple[str, str]:
    """An e-invoicing address (BT-34/BT-49) and its EAS scheme code, cleaned; both or none."""
    address, scheme = address.strip(), scheme.strip().upper()
    if not address and not scheme:
        return "", ""
    if not address:
        raise ValidationError({"electronic_address": ["Give the address for this scheme."]})
    if not EAS_CODE.match(scheme):
        raise ValidationError(
            {
                "electronic_address_scheme": [
                    "Give the EAS code of the address: EM for email, 0088 for a GLN, 9930 for "
                    "a German VAT ID, 0204 for a Leitweg-ID …"
                ]
            }
        )
    if scheme == "EM":
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                {"electronic_address": [f"“{address}” is not an email address."]}
            ) from None
    return address, scheme


def validate_colour(value: str) -> None:
    if not HEX_COLOUR.match(value):
        raise ValidationError(f"“{value}” is not a colour like #1f6feb.")


_SVG_FORBIDDEN = re.compile(rb"<script|javascript:|\son[a-z]+\s*=|<foreignObject|<!ENTITY", re.I)


def check_logo(data: bytes, name: str) -> str:
    """Check a logo's bytes (not its name) and return its real type: 'png' or 'svg'."""
    if len(data) > settings.LOGO_MAX_BYTES:
        raise ValidationError(
            f"The logo is {len(data) // 1024} KB; "
            f"the limit is {settings.LOGO_MAX_BYTES // 1024} KB."
        )
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(BytesIO(data)) as image:
                image.verify()
                if image.format != "PNG":
                    raise ValidationError("The logo is not a PNG image.")
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise ValidationError("The logo file is damaged: it is not a readable PNG.") from exc
        return "png"
    head = data[:2048].lstrip()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if head.startswith((b"<?xml", b"<svg")) and b"<svg" in data[:4096]:
        # Logos are shown inline on pages and invoices, so active content is refused outright.
        if _SVG_FORBIDDEN.search(data):
            raise ValidationError(
                "The SVG logo contains scripts or external entities; remove them."
            )
        return "svg"
    raise ValidationError(
        f"“{name}” is not a PNG or SVG image (its content was checked, not its name)."
    )


RECEIPT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}


def check_receipt(data: bytes, name: str) -> str:
    """Check a receipt's bytes and return its real type: pdf, png, jpeg or webp."""
    limit = settings.RECEIPT_MAX_BYTES
    if not data:
        raise ValidationError(f"“{name}” is empty.")
    if len(data) > limit:
        raise ValidationError(
            f"“{name}” is {len(data) / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.0f} MB."
        )
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise ValidationError(f"“{name}” is a damaged or incomplete PDF.")
        return "pdf"
    image_kind = None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        image_kind = "png"
    elif data.startswith(b"\xff\xd8\xff"):
        image_kind = "jpeg"
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        image_kind = "webp"
    if image_kind is None:
        raise ValidationError(
            f"“{name}” is not a PDF, PNG, JPEG or WebP file (its content was checked, "
            "not its name)."
        )
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(f"“{name}” is a damaged image.") from exc
    return image_kind
