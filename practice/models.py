"""The tenant (Practice), its people, rooms, hours and settings.

Every practice-owned row derives from `PracticeOwned`: it carries its practice, its queryset
is scoped with `for_practice()`, and `clean()` refuses a foreign key that points into another
practice. That is what keeps one practice's data invisible from another and lets a hosted
deployment later distribute tables by practice without a query ever joining across practices.
"""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from typing import ClassVar, Self, TypeVar
from urllib.parse import urlencode

from django.conf import settings as django_settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from practice.catalogue import translated, translations_field

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, email: str | None) -> User:
        # People type their address with whatever capitals they like; it is stored lowercased.
        return self.get(email__iexact=email)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in, by email. What they may do depends on their memberships."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    language = models.CharField(
        _("language"), max_length=8, blank=True, help_text=_("Empty: the browser's language.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Only superusers need this flag; managers reach the admin through their membership.
    is_staff = models.BooleanField(_("platform staff"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    # Part of every session's auth hash: raised to end all of the user's signed-in sessions at
    # once (a reset second factor: the lost phone may hold one), as a new password does.
    sessions_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django's hash of the password, with the generation once it has been raised (so the
        # sessions signed in before this existed stay valid): `get_session_auth_hash` and its
        # fallbacks for rotated secret keys both come here.
        if not self.sessions_generation:
            return super()._get_session_auth_hash(secret=secret)  # type: ignore[misc]
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            f"{self.password}:{self.sessions_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def sessions_end(self) -> None:
        """End every signed-in session of the user: each is refused at its next request."""
        User.objects.filter(pk=self.pk).update(sessions_generation=F("sessions_generation") + 1)
        self.refresh_from_db(fields=["sessions_generation"])


class Practice(models.Model):
    """The tenant: one practice (a location of a chain, or an independent practice)."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True, help_text=_("Used in URLs and X-Practice."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # The API's catalogue answers Last-Modified from these (`practice.catalogue_api`).
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("practice")
        verbose_name_plural = _("practices")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.settings.time_zone)


_M = TypeVar("_M", bound=models.Model)


class PracticeOwnedQuerySet(models.QuerySet[_M]):
    def for_practice(self, practice: Practice | int) -> Self:
        return self.filter(practice=practice)


class PracticeOwned(models.Model):
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="+", verbose_name=_("practice")
    )

    objects = PracticeOwnedQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        for field in self._meta.concrete_fields:
            if not field.is_relation or field.name == "practice":
                continue
            related_id = getattr(self, field.attname)
            related_model = field.related_model  # a relation's: never None here
            if related_id is None or related_model is None:
                continue
            if not issubclass(related_model, PracticeOwned):
                continue
            related = getattr(self, field.name)
            if related.practice_id != self.practice_id:
                raise ValidationError({field.name: _("This belongs to another practice.")})


class PatientSignup(models.TextChoices):
    INVITATION = "invitation", _("by staff invitation only")
    OPEN = "open", _("open: new patients sign up online")


class PracticeSettings(models.Model):
    practice = models.OneToOneField(
        Practice, on_delete=models.CASCADE, primary_key=True, related_name="settings"
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="Europe/Berlin"
    )
    language = models.CharField(
        _("language for patients"),
        max_length=8,
        default="en",
        choices=[("en", "English"), ("ru", "Русский")],
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        _("buffer between sessions (minutes)"), default=10, validators=[MaxValueValidator(120)]
    )
    slot_grid_minutes = models.PositiveSmallIntegerField(
        _("booking grid (minutes)"),
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(60)],
    )
    screening_validity_days = models.PositiveSmallIntegerField(
        _("screening validity (days)"), default=30, validators=[MinValueValidator(1)]
    )
    fever_threshold = models.DecimalField(
        _("fever threshold (°C)"), max_digits=3, decimal_places=1, default=Decimal("37.5")
    )
    first_reminder_hours = models.PositiveSmallIntegerField(
        _("first reminder (hours before)"), default=24
    )
    second_reminder_hours = models.PositiveSmallIntegerField(
        _("second reminder (hours before)"), default=2
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        _("booking horizon (days)"), default=90, validators=[MinValueValidator(1)]
    )
    cancellation_notice_hours = models.PositiveSmallIntegerField(
        _("cancellation notice (hours)"), default=24
    )
    waitlist_offer_hours = models.PositiveSmallIntegerField(
        _("waitlist offer holds (hours)"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(72)],
        help_text=_("How long a freed time waits for the patient offered it before the next."),
    )
    address = models.TextField(_("address"), blank=True)
    # Shown in reminders and on the pages that send a patient to the phone (a late cancel).
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="EUR",
        validators=[RegexValidator(r"^[A-Z]{3}$", _("Use an ISO 4217 code such as EUR."))],
        help_text=_("The currency of the massage types' prices (ISO 4217)."),
    )
    # Open: /p/<practice>/join/ lets a new patient make an account and book a first visit on
    # their own questionnaire (confirmed at check-in); otherwise that page does not exist.
    patient_signup = models.CharField(
        _("patient sign-up"),
        max_length=12,
        choices=PatientSignup.choices,
        default=PatientSignup.INVITATION,
    )
    # Therapists see the records of their own patients (one session with them at least);
    # a small practice where everyone covers for everyone may open all records to them.
    therapists_see_all_patients = models.BooleanField(
        _("therapists see all patients"),
        default=False,
        help_text=_("Otherwise a therapist sees only patients they have had a session with."),
    )
    sender_name = models.CharField(_("sender name for reminders"), max_length=100, blank=True)
    sender_email = models.EmailField(_("sender email for reminders"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # What the patient's phone shows as the SMS sender (R21): an alphanumeric id of up to 11
    # characters, as carriers allow, or a number the practice owns. Blank: REMINDER_SMS_SENDER.
    sms_sender = models.CharField(
        _("SMS sender id for reminders"),
        max_length=16,
        blank=True,
        validators=[
            RegexValidator(
                r"^([A-Za-z0-9][A-Za-z0-9 .&-]{0,10}|\+[1-9][0-9]{6,14})$",
                _(
                    "Up to 11 letters, digits, spaces, dots, hyphens or ampersands, or a phone "
                    "number in international form (+491511234567)."
                ),
            )
        ],
        help_text=_(
            "Shown as the sender of reminder SMS; blank uses the deployment's default. Some "
            "countries require sender ids to be registered with the provider."
        ),
    )

    # How long audit entries are kept, and erased patients' records the practice must keep
    # (patient files are commonly kept 6 years after the last treatment).
    retention_years = models.PositiveSmallIntegerField(
        _("record retention (years)"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_(
            "Audit entries and erased patients' retained records older than this are purged."
        ),
    )
    # ASVS 4.0 2.8: managers always sign in with a second factor; the practice decides for the
    # rest of its staff. Patients never need one.
    staff_second_factor_required = models.BooleanField(
        _("second factor required for all staff"),
        default=False,
        help_text=_("Managers always need one; this asks it of front desk and therapists too."),
    )
    # Minutes without a request after which a staff member's session ends (a shared desk
    # computer left signed in); patients' portal sessions are not affected.
    staff_idle_minutes = models.PositiveSmallIntegerField(
        _("staff sessions end after (minutes idle)"),
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(720)],
    )

    class Meta:
        verbose_name = _("practice settings")
        verbose_name_plural = _("practice settings")

    def __str__(self) -> str:
        return str(_("Settings of %(practice)s") % {"practice": self.practice})

    @property
    def address_line(self) -> str:
        """The address on one line: a calendar event's location, a map search."""
        return ", ".join(line.strip() for line in self.address.splitlines() if line.strip())

    @property
    def map_url(self) -> str:
        """An OpenStreetMap search for the address: a plain link, so no map script or
        third-party request is on our pages until the patient follows it."""
        if not self.address_line:
            return ""
        return "https://www.openstreetmap.org/search?" + urlencode({"query": self.address_line})

    @property
    def sender(self) -> str:
        """The From: of the practice's invitations: its own address and name, if it has them."""
        address = self.sender_email or django_settings.DEFAULT_FROM_EMAIL
        return f"{self.sender_name} <{address}>" if self.sender_name else address


class Role(models.TextChoices):
    MANAGER = "manager", _("Manager")
    FRONT_DESK = "front_desk", _("Front desk")
    THERAPIST = "therapist", _("Therapist")
    PATIENT = "patient", _("Patient")


STAFF_ROLES = frozenset({Role.MANAGER, Role.FRONT_DESK, Role.THERAPIST})
STAFF_ROLE_CHOICES = [(role.value, role.label) for role in Role if role in STAFF_ROLES]


class Membership(PracticeOwned):
    """A user's role in one practice; a user may belong to several practices."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "user"], name="membership_one_role_per_practice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.practice_id}"

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES

    # What the pages' menu offers each role (`patients/staff_base.html`, `practice/home.html`).
    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_therapist(self) -> bool:
        """Lands on "My day": their own sessions; sees their own patients' records."""
        return self.role == Role.THERAPIST

    @property
    def runs_the_desk(self) -> bool:
        """Registers patients, plans courses and follows the courses due: the desk's work,
        which managers do too."""
        return self.role in (Role.MANAGER, Role.FRONT_DESK)


class MassageType(PracticeOwned):
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    default_minutes = models.PositiveSmallIntegerField(
        _("default minutes"), validators=[MinValueValidator(5), MaxValueValidator(120)]
    )
    rotation_order = models.PositiveSmallIntegerField(
        _("rotation order"), default=0, help_text=_("Order in which course types rotate (R12).")
    )
    name_translations = translations_field(
        _("name in other languages"),
        _('By language code, e.g. {"ru": "…"}: what readers of it see.'),
    )
    online_bookable = models.BooleanField(
        _("bookable online"),
        default=True,
        help_text=_("Patients may book it themselves; otherwise only the desk books it."),
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("massage type")
        verbose_name_plural = _("massage types")
        ordering = ["rotation_order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "code"], name="massage_type_code_per_practice"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the reader's language (`translated`)."""
        return translated(self.name, self.name_translations)


hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #3a7bd5."))


class Therapist(PracticeOwned):
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="therapist_profiles"
    )
    name = models.CharField(_("name"), max_length=200)
    massage_types = models.ManyToManyField(
        MassageType, blank=True, related_name="therapists", verbose_name=_("qualified for")
    )
    colour = models.CharField(
        _("calendar colour"), max_length=7, default="#3a7bd5", validators=[hex_colour]
    )
    photo_url = models.URLField(_("photo (URL)"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("therapist")
        verbose_name_plural = _("therapists")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "user"],
                condition=Q(user__isnull=False),
                name="therapist_one_profile_per_user_and_practice",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.user_id is None or self.practice_id is None:
            return
        # Nobody becomes a practice's therapist without having joined it (by accepting an
        # invitation): an account of another practice is not to be picked.
        staff = Membership.objects.filter(
            practice_id=self.practice_id, user_id=self.user_id, role__in=STAFF_ROLES
        )
        if not staff.exists():
            raise ValidationError(
                {
                    "user": _(
                        "Only a staff member of this practice can be linked: invite them first."
                    )
                }
            )


class Room(PracticeOwned):
    name = models.CharField(_("name"), max_length=100)
    # A room fitted for some types only (a wet room for honey, a table for cupping): empty
    # suits every type. Booking picks only a room that suits the session's type.
    massage_types = models.ManyToManyField(
        MassageType,
        blank=True,
        related_name="rooms",
        verbose_name=_("suitable for"),
        help_text=_("Leave empty if the room suits every massage type."),
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="room_name_per_practice")
        ]

    def __str__(self) -> str:
        return self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(PracticeOwned):
    """One interval of a therapist's week, in the practice's local wall-clock time (R23)."""

    therapist = models.ForeignKey(Therapist, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["therapist", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__gt=F("starts")), name="working_hours_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.therapist} {self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"
        )

    def clean(self) -> None:
        super().clean()
        if self.starts and self.ends and self.ends <= self.starts:
            raise ValidationError({"ends": _("The end must be after the start.")})


class Absence(PracticeOwned):
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        abstract = True
        ordering = ["starts_at"]

    def clean(self) -> None:
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")})


class Closure(Absence):
    """The whole practice is closed (holiday, renovation)."""

    class Meta(Absence.Meta):
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="closure_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reason or _('Closed')} {self.starts_at:%Y-%m-%d}"


class TimeOff(Absence):
    """One therapist is away."""

    therapist = models.ForeignKey(Therapist, on_delete=models.CASCADE, related_name="time_off")

    class Meta(Absence.Meta):
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="time_off_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.therapist} {self.starts_at:%Y-%m-%d} {self.reason}"


# The records of access and the price list, in modules of their own; imported here to register
# them with the app, at the end because they build on the models above.
from practice.access_models import (  # noqa: E402, F401
    IdempotencyKey,
    RecoveryCode,
    StaffInvitation,
)
from practice.prices import Price  # noqa: E402, F401
