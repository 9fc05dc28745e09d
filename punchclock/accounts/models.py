"""Users, organizations, memberships with roles, invitations and API tokens."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower

from punchclock.core.validators import (
    validate_colour,
    validate_currency,
    validate_locale,
    validate_zone,
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("users need an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with an email address."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_zone])
    locale = models.CharField(max_length=8, default="en", validators=[validate_locale])

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def display_name(self) -> str:
        return self.display_name_of(self.name, self.email)

    @staticmethod
    def display_name_of(name: str, email: str) -> str:
        """The name people see: the user's name, or else their address before the @."""
        return name or email.split("@")[0]


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    MEMBER = "member", "Member"


class Organization(models.Model):
    """A company or freelancer that tracks time and sends invoices."""

    name = models.CharField(max_length=200)
    legal_name = models.CharField(max_length=200, blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address (line 2)", max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, e.g. DE")
    vat_id = models.CharField("VAT ID", max_length=20, blank=True)
    tax_number = models.CharField(max_length=40, blank=True)
    # BT-30, e.g. the commercial register number; EN 16931 needs it where no VAT ID may
    # appear (supplies not subject to VAT).
    registration_number = models.CharField(max_length=60, blank=True)
    iban = models.CharField("IBAN", max_length=34, blank=True)
    bic = models.CharField("BIC", max_length=11, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    website = models.URLField(blank=True)
    # BT-34: where clients' systems answer e-invoices (XRechnung and Peppol need it).
    electronic_address = models.CharField(max_length=200, blank=True)
    electronic_address_scheme = models.CharField(max_length=4, blank=True)
    logo = models.FileField(upload_to="logos/", blank=True)
    brand_colour = models.CharField(max_length=7, default="#2563eb", validators=[validate_colour])
    default_currency = models.CharField(max_length=3, default="EUR", validators=[validate_currency])
    locale = models.CharField(max_length=8, default="en", validators=[validate_locale])
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_zone])
    # Time on or before this local date can no longer be changed by members.
    lock_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def display_legal_name(self) -> str:
        return self.legal_name or self.name


class Membership(models.Model):
    """A user's place in an organization: role, capacity and whether still active."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    weekly_capacity_hours = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("40.00")
    )
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_known"
            ),
            models.CheckConstraint(
                condition=models.Q(weekly_capacity_hours__gte=0)
                & models.Q(weekly_capacity_hours__lte=168),
                name="membership_capacity_in_week",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Invitation(models.Model):
    """An emailed link that lets someone join an organization with a given role."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(Lower("email"), "organization", name="invitation_email_org")]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.organization}"


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    """A personal API token for one organization; only its SHA-256 is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=5, choices=TokenScope.choices, default=TokenScope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginFailure(models.Model):
    """A failed sign-in, counted per account and address to slow down password guessing."""

    email = models.CharField(max_length=254)
    address = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["email", "at"], name="loginfailure_email_at")]

    def __str__(self) -> str:
        return f"failed sign-in for {self.email} at {self.at}"
