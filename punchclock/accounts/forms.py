"""Web forms for accounts: they parse input; the services decide and write."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.password_validation import password_validators_help_text_html

from punchclock.accounts import services
from punchclock.accounts.models import Organization, Role, TokenScope, User
from punchclock.clients.forms import (
    FieldGroup,
    QuickSelect,
    choice_field,
    country_choices,
    currency_choices,
    field_groups,
)
from punchclock.core.timeutil import is_zone, zone_names

LANGUAGES = list(settings.LANGUAGES)
_ZONE_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def zone_choices() -> list[tuple[str, Any]]:
    """IANA zones grouped by region (Europe › Berlin); old aliases stay valid but unlisted."""
    groups: list[tuple[str, Any]] = [("", [("UTC", "UTC")])]
    for region in _ZONE_REGIONS:
        names = sorted(n for n in zone_names() if n.startswith(f"{region}/"))
        options = [(n, n.split("/", 1)[1].replace("_", " ")) for n in names]
        groups.append((region, options))
    return groups


class ZoneField(forms.ChoiceField):
    """A time zone from a grouped list; any zone Python knows is accepted (e.g. US/Eastern)."""

    widget = QuickSelect

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Time zone")
        super().__init__(choices=zone_choices, **kwargs)
        self.error_messages["invalid_choice"] = (
            "“%(value)s” is not a known time zone (e.g. Europe/Berlin)."
        )

    def valid_value(self, value: Any) -> bool:
        return is_zone(str(value))

    def show_value(self, value: str) -> None:
        """Make an unlisted but valid current value visible in the select."""
        listed = zone_choices()
        if value and is_zone(value) and not any(value == n for n, _ in _flat(listed)):
            self.choices = [*listed, ("Other", [(value, value)])]


def _flat(choices: Any) -> list[tuple[str, str]]:
    flat: list[tuple[str, str]] = []
    for key, label in choices:
        if isinstance(label, list | tuple):
            flat.extend(label)
        else:
            flat.append((key, label))
    return flat


def _currency_field(**kwargs: Any) -> forms.ChoiceField:
    kwargs.setdefault("label", "Default currency")
    return forms.ChoiceField(choices=currency_choices, widget=QuickSelect, **kwargs)


def _language_field(**kwargs: Any) -> forms.ChoiceField:
    kwargs.setdefault("label", "Language")
    return forms.ChoiceField(choices=LANGUAGES, **kwargs)


def _initial(form_class: type[forms.Form], instance: Any) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in form_class.base_fields}


# Signing in and up ---------------------------------------------------------------------


class LoginForm(forms.Form):
    email = forms.EmailField(
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def clean_email(self) -> str:
        # Addresses are stored in lower case; people type them however they like.
        return str(self.cleaned_data["email"]).strip().lower()


def _new_password_field(**kwargs: Any) -> forms.CharField:
    return forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
        **kwargs,
    )


class SignUpForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=150)
    email = forms.EmailField(
        label="Work email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = _new_password_field()
    organization_name = forms.CharField(
        label="Company or team name",
        max_length=200,
        help_text="Your freelance business, agency or team. You can change it later.",
    )
    timezone = ZoneField(
        initial="UTC", help_text="Days and weeks of your timesheets start in this zone."
    )
    currency = _currency_field(
        initial="EUR", help_text="The currency of new clients, rates and invoices."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update(autofocus=True, autocomplete="name")


class InvitationSignUpForm(forms.Form):
    """The short sign-up of an invited person: the email address is the invitation's."""

    name = forms.CharField(label="Your name", max_length=150)
    password = _new_password_field()


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=150, required=False, help_text="Shown to your team.")
    timezone = ZoneField(help_text="Your days and weeks start at midnight in this zone.")
    locale = _language_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["timezone"]
        assert isinstance(field, ZoneField)
        field.show_value(str(self.initial.get("timezone") or ""))

    @staticmethod
    def initial_for(user: User) -> dict[str, Any]:
        return _initial(ProfileForm, user)


class ChangePasswordForm(PasswordChangeForm):
    """Checks the old password and the new pair; services.change_password does the writing."""

    def save(self, commit: bool = True) -> Any:
        services.change_password(self.user, password=self.cleaned_data["new_password1"])
        return self.user


class ResetPasswordForm(SetPasswordForm):
    """The new-password form of a reset link; the write goes through the service."""

    def save(self, commit: bool = True) -> Any:
        services.change_password(self.user, password=self.cleaned_data["new_password1"])
        return self.user


# Organizations -------------------------------------------------------------------------


class NewOrganizationForm(forms.Form):
    name = forms.CharField(
        label="Organization name",
        max_length=200,
        help_text="A company, a client team or a side business: each has its own clients, "
        "people and invoices.",
    )
    country = forms.ChoiceField(choices=(), widget=QuickSelect, required=False)
    default_currency = _currency_field(initial="EUR")
    timezone = ZoneField(initial="UTC")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "country").choices = [("", "Choose a country…"), *country_choices()]
        self.fields["name"].widget.attrs["autofocus"] = True
        self.fields["name"].wide = True  # type: ignore[attr-defined]


class OrganizationProfileForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="How your team and clients know you.")
    email = forms.EmailField(required=False, help_text="Shown on invoices for questions.")
    phone = forms.CharField(max_length=40, required=False)
    website = forms.URLField(required=False, assume_scheme="https")
    address_line1 = forms.CharField(label="Address", max_length=200, required=False)
    address_line2 = forms.CharField(label="Address (line 2)", max_length=200, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    city = forms.CharField(max_length=100, required=False)
    country = forms.ChoiceField(choices=(), widget=QuickSelect, required=False)
    brand_colour = forms.RegexField(
        label="Brand colour",
        regex=r"^#[0-9a-fA-F]{6}$",
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text="Accent colour of the app and your invoices.",
        error_messages={"invalid": "Pick a colour like #2563eb."},
    )
    locale = _language_field(help_text="Language of invoices and emails to clients.")
    timezone = ZoneField(help_text="Where the organization's working days begin and end.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "country").choices = [("", "Choose a country…"), *country_choices()]
        field = self.fields["timezone"]
        assert isinstance(field, ZoneField)
        field.show_value(str(self.initial.get("timezone") or ""))

    @staticmethod
    def initial_for(organization: Organization) -> dict[str, Any]:
        return _initial(OrganizationProfileForm, organization)

    def groups(self) -> list[FieldGroup]:
        return field_groups(
            self,
            [
                ("Organization", ["name", "email", "phone", "website"]),
                (
                    "Address",
                    ["address_line1", "address_line2", "postal_code", "city", "country"],
                ),
                ("Branding and region", ["brand_colour", "locale", "timezone"]),
            ],
        )


class BillingIdentityForm(forms.Form):
    legal_name = forms.CharField(
        max_length=200,
        required=False,
        help_text="The registered name on invoices, if it differs from the name above.",
    )
    vat_id = forms.CharField(
        label="VAT ID",
        max_length=30,
        required=False,
        help_text="With country prefix, e.g. DE123456788.",
    )
    tax_number = forms.CharField(
        max_length=40, required=False, help_text="Your national tax number, if invoices need it."
    )
    registration_number = forms.CharField(
        label="Registration number",
        max_length=60,
        required=False,
        help_text="Commercial register entry, e.g. HRB 123456 B (Amtsgericht Charlottenburg).",
    )
    iban = forms.CharField(
        label="IBAN",
        max_length=50,
        required=False,
        help_text="Printed on invoices so clients can pay by transfer.",
    )
    bic = forms.CharField(label="BIC", max_length=15, required=False)
    default_currency = _currency_field(help_text="For new clients; existing ones keep theirs.")
    electronic_address = forms.CharField(
        label="E-invoicing address",
        max_length=200,
        required=False,
        help_text="BT-34, where clients' systems reach you; XRechnung and Peppol need it.",
    )
    electronic_address_scheme = forms.CharField(
        label="Address scheme (EAS)",
        max_length=4,
        required=False,
        help_text="EM for an email address, 0088 for a GLN, 9930 for a German VAT ID …",
    )

    @staticmethod
    def initial_for(organization: Organization) -> dict[str, Any]:
        return _initial(BillingIdentityForm, organization)


class LogoForm(forms.Form):
    logo = forms.FileField(
        label="Logo file",
        help_text="PNG or SVG, at most {} KB. A wide logo on a transparent background works "
        "best on invoices.",
        error_messages={"required": "Choose a PNG or SVG file to upload."},
        widget=forms.FileInput(attrs={"accept": "image/png,image/svg+xml,.png,.svg"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["logo"]
        field.help_text = str(field.help_text).format(settings.LOGO_MAX_BYTES // 1024)

    def clean_logo(self) -> Any:
        upload = self.cleaned_data["logo"]
        # Refused before reading it: a huge upload must not be loaded into memory.
        if upload.size > settings.LOGO_MAX_BYTES:
            raise forms.ValidationError(
                f"The logo is {upload.size // 1024} KB; "
                f"the limit is {settings.LOGO_MAX_BYTES // 1024} KB."
            )
        return upload


# Team ----------------------------------------------------------------------------------


class InvitationForm(forms.Form):
    email = forms.EmailField(
        widget=forms.EmailInput(attrs={"placeholder": "name@example.com", "autocomplete": "off"})
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)

    def __init__(self, *args: Any, grantable: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every role parses, so the service can say why a role is not theirs to give;
        # the menu offers only the ones they may.
        self.fields["role"].widget.choices = [c for c in Role.choices if c[0] in grantable]


class MemberForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, required=False)
    weekly_capacity_hours = forms.DecimalField(
        label="Weekly capacity",
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(168),
        max_digits=5,
        decimal_places=2,
        error_messages={
            "min_value": "Weekly capacity is 0 to 168 hours.",
            "max_value": "Weekly capacity is 0 to 168 hours.",
        },
    )


class TeamFilterForm(forms.Form):
    """The filters of the team list; invalid values are simply ignored."""

    q = forms.CharField(
        required=False,
        label="Search",
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "Name or email", "type": "search"}),
    )
    role = forms.ChoiceField(required=False, choices=[("", "All roles"), *Role.choices])

    def value(self, name: str) -> Any:
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name)


# API tokens ----------------------------------------------------------------------------


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="Where it is used, e.g. “laptop CLI” or “reporting script”.",
        widget=forms.TextInput(attrs={"placeholder": "laptop CLI"}),
    )
    scope = forms.ChoiceField(
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        help_text="Read only is enough for reports; the CLI needs read and write.",
    )
