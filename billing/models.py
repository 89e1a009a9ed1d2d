"""Billing: charges, course packages, invoices, payments, deposits (prices are the
catalogue's: `practice.prices`).

All amounts are `Decimal` in the practice's currency (`PracticeSettings.currency`), rounded to
its minor units by `billing.money`; the columns keep three decimal places so that currencies
with a thousandth (KWD) fit too. An issued invoice is never changed or deleted: the model
refuses, the admin shows it read-only, the API answers 405; a correction is a credit note.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from practice.errors import Conflict
from practice.models import PracticeOwned, PracticeOwnedQuerySet
from practice.prices import money_field, percent_field


class FeeKind(models.TextChoices):
    NONE = "none", _("No fee")
    FIXED = "fixed", _("Fixed amount")
    PERCENT = "percent", _("Percentage of the session's price")


class DepositKind(models.TextChoices):
    NONE = "none", _("No deposit")
    FIXED = "fixed", _("Fixed amount")
    PERCENT = "percent", _("Percentage of the session's price")


class UnusedSessions(models.TextChoices):
    REFUND = "refund", _("Refund the unused sessions")
    CREDIT = "credit", _("Keep them as credit on the patient's account")


class BillingSettings(PracticeOwned):
    """The practice's billing policy. The notice period of a late cancellation is the
    practice's `cancellation_notice_hours`: the session records whether a cancel was late."""

    prices_include_tax = models.BooleanField(
        _("prices include tax"), default=True, help_text=_("Prices are entered gross.")
    )
    tax_rate = percent_field(_("tax rate (%)"), default=Decimal(0))
    late_cancel_fee = models.CharField(
        _("late cancellation fee"), max_length=8, choices=FeeKind.choices, default=FeeKind.NONE
    )
    late_cancel_fee_value = money_field(_("late cancellation fee (amount or %)"), default=0)
    no_show_fee = models.CharField(
        _("no-show fee"), max_length=8, choices=FeeKind.choices, default=FeeKind.NONE
    )
    no_show_fee_value = money_field(_("no-show fee (amount or %)"), default=0)
    unused_sessions = models.CharField(
        _("cancelled course package"),
        max_length=8,
        choices=UnusedSessions.choices,
        default=UnusedSessions.CREDIT,
    )
    letterhead = models.TextField(
        _("letterhead"), blank=True, help_text=_("Legal name, tax number, bank details.")
    )
    # A deposit asked of a patient who books a single session online (`billing.deposits`).
    deposit = models.CharField(
        _("deposit for online bookings"),
        max_length=8,
        choices=DepositKind.choices,
        default=DepositKind.NONE,
    )
    deposit_value = money_field(_("deposit (amount or %)"), default=0)
    deposit_minutes = models.PositiveIntegerField(
        _("time to pay the deposit (minutes)"),
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(7 * 24 * 60)],
        help_text=_("Unpaid by then, the booking is released and its time offered again."),
    )

    class Meta:
        verbose_name = _("billing settings")
        verbose_name_plural = _("billing settings")
        constraints = [
            models.UniqueConstraint(fields=["practice"], name="billing_settings_one"),
        ]

    def __str__(self) -> str:
        return str(_("Billing settings"))

    def clean(self) -> None:
        super().clean()
        for kind, value in (
            ("late_cancel_fee", self.late_cancel_fee_value),
            ("no_show_fee", self.no_show_fee_value),
            ("deposit", self.deposit_value),
        ):
            # The fee kinds and the deposit kinds share their values.
            if value < 0 or (getattr(self, kind) == FeeKind.PERCENT and value > 100):
                raise ValidationError(
                    {f"{kind}_value": _("Use a percentage from 0 to 100, or a positive amount.")}
                )


class ChargeKind(models.TextChoices):
    SESSION = "session", _("Session")
    PACKAGE = "package", _("Course package")
    LATE_CANCEL_FEE = "late_cancel_fee", _("Late cancellation fee")
    NO_SHOW_FEE = "no_show_fee", _("No-show fee")
    DEPOSIT = "deposit", _("Deposit")


class ChargeStatus(models.TextChoices):
    # A fee drafted by policy: the desk confirms or waives it before it is invoiced.
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("To invoice")
    INVOICED = "invoiced", _("Invoiced")
    WAIVED = "waived", _("Waived")


class Charge(PracticeOwned):
    """Something the patient owes, before it is on an invoice. Its amounts are fixed when it
    is created (the price in force at booking, the tax rate of that day)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        "therapy_sessions.Session",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    course = models.ForeignKey(
        "courses.Course", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ChargeKind.choices)
    description = models.CharField(_("description"), max_length=200)
    net = money_field(_("net"))
    tax_rate = percent_field(_("tax rate (%)"))
    tax = money_field(_("tax"))
    gross = money_field(_("gross"))
    status = models.CharField(
        _("status"), max_length=12, choices=ChargeStatus.choices, default=ChargeStatus.OPEN
    )
    # Who waived a fee, when and why (the audit log is another app's; this stays with the row).
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    waived_at = models.DateTimeField(_("waived at"), null=True, blank=True)
    waive_reason = models.CharField(_("reason for waiving"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["practice", "patient", "status"], name="charge_patient_idx")
        ]
        constraints = [
            # A session is charged, and fined, at most once of each kind: a signal or a click
            # repeated drafts nothing twice.
            models.UniqueConstraint(
                fields=["practice", "session", "kind"],
                condition=Q(session__isnull=False),
                name="charge_once_per_session_kind",
            ),
            models.CheckConstraint(
                condition=~Q(status="waived") | ~Q(waive_reason=""), name="charge_waived_why"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} · {self.gross}"


class PackageStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class CoursePackage(PracticeOwned):
    """A course sold as a package: N sessions at one price. Its sessions draw from it
    instead of being charged one by one."""

    course = models.OneToOneField(
        "courses.Course", on_delete=models.PROTECT, related_name="package"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    sessions_count = models.PositiveSmallIntegerField(_("sessions"))
    list_price = money_field(_("price of the sessions one by one"))
    discount_percent = percent_field(_("discount (%)"), default=Decimal(0))
    charge = models.OneToOneField(Charge, on_delete=models.PROTECT, related_name="package")
    status = models.CharField(
        _("status"), max_length=8, choices=PackageStatus.choices, default=PackageStatus.ACTIVE
    )
    sold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("sold at"), auto_now_add=True)

    class Meta:
        verbose_name = _("course package")
        verbose_name_plural = _("course packages")

    def __str__(self) -> str:
        return f"{self.course} · {self.sessions_count}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")


class InvoiceIssued(Conflict):
    """An issued invoice or its lines were to be changed or deleted."""


CHANGE_REFUSED = _("An issued invoice cannot be changed or deleted: issue a credit note.")


class InvoiceQuerySet(PracticeOwnedQuerySet["Invoice"]):
    """Bulk updates and deletes bypass `save()` and `delete()`: they refuse issued rows too."""

    def _refuse_issued(self) -> None:
        if self.filter(status=InvoiceStatus.ISSUED).exists():
            raise InvoiceIssued(str(CHANGE_REFUSED))

    def update(self, **kwargs: Any) -> int:
        self._refuse_issued()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._refuse_issued()
        return super().delete()


class Invoice(PracticeOwned):
    # Accounting records outlive a patient's erasure (`patients.erasure`): an issued invoice,
    # the law's to keep, is never deleted, so neither is what it refers to.
    kept_after_erasure = True
    """An invoice or credit note. Numbers are gapless per practice and year, shared by both
    kinds; a credit note's lines are the negatives of what it corrects."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(
        _("kind"), max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    status = models.CharField(
        _("status"), max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    credits = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("corrects invoice"),
    )
    currency = models.CharField(_("currency"), max_length=3)
    net = money_field(_("net"), default=0)
    tax = money_field(_("tax"), default=0)
    gross = money_field(_("total"), default=0)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects: ClassVar = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["practice", "patient", "status"], name="invoice_patient_idx")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "year", "number"], name="invoice_number_once_per_year"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False, issued_at__isnull=False),
                name="invoice_issued_has_number",
            ),
        ]

    def __str__(self) -> str:
        return self.display_number or str(_("Draft invoice"))

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any, **kwargs: Any) -> Invoice:
        invoice = super().from_db(db, field_names, values, **kwargs)
        invoice._stored_status = invoice.status
        return invoice

    @property
    def is_issued(self) -> bool:
        return getattr(self, "_stored_status", None) == InvoiceStatus.ISSUED

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.is_issued:
            raise InvoiceIssued(str(CHANGE_REFUSED))
        super().save(*args, **kwargs)
        self._stored_status = self.status

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_issued:
            raise InvoiceIssued(str(CHANGE_REFUSED))
        return super().delete(*args, **kwargs)

    @property
    def display_number(self) -> str:
        if self.number is None:
            return ""
        prefix = "CN" if self.kind == InvoiceKind.CREDIT_NOTE else "INV"
        return f"{prefix}-{self.year}-{self.number:05d}"


class InvoiceLine(PracticeOwned):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    charge = models.ForeignKey(
        Charge, on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )
    description = models.CharField(_("description"), max_length=200)
    net = money_field(_("net"))
    tax_rate = percent_field(_("tax rate (%)"))
    tax = money_field(_("tax"))
    gross = money_field(_("gross"))

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.description} · {self.gross}"

    def _refuse_if_issued(self) -> None:
        if Invoice.objects.filter(pk=self.invoice_id, status=InvoiceStatus.ISSUED).exists():
            raise InvoiceIssued(str(CHANGE_REFUSED))

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_issued()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse_if_issued()
        return super().delete(*args, **kwargs)


class InvoiceCounter(PracticeOwned):
    """The last invoice number of a practice's year. Issuing locks this row (SELECT … FOR
    UPDATE), so concurrent issuers queue and numbers have no gap and no duplicate; a rolled
    back issue rolls its number back too."""

    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("invoice counter")
        verbose_name_plural = _("invoice counters")
        constraints = [
            models.UniqueConstraint(fields=["practice", "year"], name="invoice_counter_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card terminal")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    ONLINE = "online", _("Online")


# What the desk records by hand; an online payment only ever comes from the provider.
DESK_PAYMENT_METHODS = [(m.value, m.label) for m in PaymentMethod if m != PaymentMethod.ONLINE]


class Payment(PracticeOwned):
    """Money received from (positive) or paid back to (negative: a refund) a patient."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    amount = money_field(_("amount"))
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(_("received at"))
    # A refund through the provider names the online payment it gives money back from.
    refund_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("refund of"),
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["practice", "patient"], name="payment_patient_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="payment_not_zero"),
            # An online payment is recorded once, whatever the provider resends.
            models.UniqueConstraint(
                fields=["practice", "method", "reference"],
                condition=Q(method="online"),
                name="payment_online_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} · {self.amount}"


class OnlinePaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class OnlinePayment(PracticeOwned):
    """A payment intent at the provider, for one invoice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="online_payments")
    amount = money_field(_("amount"))
    provider = models.CharField(_("provider"), max_length=16)
    intent_id = models.CharField(_("intent"), max_length=200)
    client_secret = models.CharField(_("client secret"), max_length=300)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=OnlinePaymentStatus.choices,
        default=OnlinePaymentStatus.PENDING,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("online payment")
        verbose_name_plural = _("online payments")
        constraints = [
            models.UniqueConstraint(fields=["provider", "intent_id"], name="online_intent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} · {self.intent_id}"


class DepositStatus(models.TextChoices):
    DUE = "due", _("Due")
    # Paid in time, or the patient came: the booking stands.
    KEPT = "kept", _("Booking kept")
    RELEASED = "released", _("Unpaid: booking released")


class Deposit(PracticeOwned):
    """A deposit asked for a session the patient booked online. Its invoice is issued with the
    booking; at `due_at` the booking is kept if the invoice is paid, else released (the
    session cancelled, the invoice credited). See `billing.deposits`."""

    session = models.OneToOneField(
        "therapy_sessions.Session", on_delete=models.PROTECT, related_name="+"
    )
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="deposit")
    due_at = models.DateTimeField(_("to pay by"))
    status = models.CharField(
        _("status"), max_length=8, choices=DepositStatus.choices, default=DepositStatus.DUE
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("deposit")
        verbose_name_plural = _("deposits")
        indexes = [
            # The sweep reads the deposits falling due.
            models.Index(fields=["due_at"], condition=Q(status="due"), name="deposit_due_idx")
        ]

    def __str__(self) -> str:
        return f"{self.invoice} · {self.get_status_display()}"


class ProviderEvent(models.Model):
    """A webhook event already handled: a replay of its id changes nothing. Not practice-owned:
    the provider's ids are unique across its accounts, and an event names its intent."""

    provider = models.CharField(_("provider"), max_length=16)
    event_id = models.CharField(_("event"), max_length=200)
    kind = models.CharField(_("type"), max_length=100)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} · {self.event_id}"
