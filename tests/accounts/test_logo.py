"""Logos: PNG or SVG checked by content, served only to members with safe headers."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from punchclock.accounts.models import Organization
from punchclock.accounts.services import set_logo
from tests.conftest import login

UPLOAD = reverse("accounts:logo_upload")
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<rect width="10" height="10" fill="#f60"/></svg>'
)


def png_bytes(size: int = 32) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (size, size), (255, 102, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _logo_of(agency) -> str:
    return Organization.objects.get(pk=agency.organization.pk).logo.name or ""


def test_a_valid_png_is_accepted_and_served(as_owner, agency):
    response = as_owner.post(UPLOAD, {"logo": SimpleUploadedFile("logo.png", png_bytes())})
    assert response.status_code == 302
    assert _logo_of(agency).endswith(".png")
    served = as_owner.get(reverse("accounts:logo", args=[agency.organization.pk]))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")


def test_an_svg_is_served_with_a_locked_down_policy(as_member, agency):
    set_logo(agency.organization, data=SVG, filename="logo.svg", by=agency.owner)
    served = as_member.get(reverse("accounts:logo", args=[agency.organization.pk]))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/svg+xml"
    assert served["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert served["X-Content-Type-Options"] == "nosniff"


def test_a_text_file_named_png_is_rejected(as_owner, agency):
    fake = SimpleUploadedFile("logo.png", b"just some text, honestly")
    response = as_owner.post(UPLOAD, {"logo": fake})
    assert response.status_code == 400
    assert "is not a PNG or SVG image" in response.context["logo_form"].errors["logo"][0]
    assert _logo_of(agency) == ""


def test_an_svg_with_a_script_is_rejected(as_owner, agency):
    evil = SVG.replace(b"</svg>", b"<script>alert(1)</script></svg>")
    response = as_owner.post(UPLOAD, {"logo": SimpleUploadedFile("logo.svg", evil)})
    assert response.status_code == 400
    assert "scripts" in response.context["logo_form"].errors["logo"][0]
    assert _logo_of(agency) == ""


def test_an_oversize_logo_is_rejected(as_owner, agency, settings):
    settings.LOGO_MAX_BYTES = 1024
    response = as_owner.post(UPLOAD, {"logo": SimpleUploadedFile("big.png", png_bytes(400))})
    assert response.status_code == 400
    assert "the limit is 1 KB" in response.context["logo_form"].errors["logo"][0]
    assert _logo_of(agency) == ""


def test_a_post_without_a_file_asks_for_one(as_owner):
    response = as_owner.post(UPLOAD, {})
    assert response.status_code == 400
    assert response.context["logo_form"].errors["logo"] == ["Choose a PNG or SVG file to upload."]


def test_the_logo_can_be_removed(as_owner, agency):
    set_logo(agency.organization, data=png_bytes(), filename="logo.png", by=agency.owner)
    response = as_owner.post(reverse("accounts:logo_remove"))
    assert response.status_code == 302
    assert _logo_of(agency) == ""
    assert as_owner.get(reverse("accounts:logo", args=[agency.organization.pk])).status_code == 404


def test_members_may_not_change_the_logo(as_member, agency):
    response = as_member.post(UPLOAD, {"logo": SimpleUploadedFile("logo.png", png_bytes())})
    assert response.status_code == 403
    assert as_member.post(reverse("accounts:logo_remove")).status_code == 403


def test_the_logo_is_not_found_for_an_outsider(agency, as_outsider):
    set_logo(agency.organization, data=png_bytes(), filename="logo.png", by=agency.owner)
    url = reverse("accounts:logo", args=[agency.organization.pk])
    assert as_outsider.get(url).status_code == 404
    assert as_outsider.post(url).status_code == 404


def test_the_logo_needs_a_signed_in_member(client, agency):
    set_logo(agency.organization, data=png_bytes(), filename="logo.png", by=agency.owner)
    response = client.get(reverse("accounts:logo", args=[agency.organization.pk]))
    assert response.status_code == 302


def test_a_missing_logo_file_is_a_404_not_a_500(as_owner, agency, tmp_path):
    set_logo(agency.organization, data=png_bytes(), filename="logo.png", by=agency.owner)
    (tmp_path / _logo_of(agency)).unlink()
    assert as_owner.get(reverse("accounts:logo", args=[agency.organization.pk])).status_code == 404


def test_the_settings_page_shows_the_current_logo(agency):
    set_logo(agency.organization, data=png_bytes(), filename="logo.png", by=agency.owner)
    html = login(agency.admin).get(reverse("accounts:organization_settings")).content.decode()
    assert reverse("accounts:logo", args=[agency.organization.pk]) in html
    assert "Remove the logo" in html
