"""The price list: what a massage type costs for a length of time, from a moment on.

The one source of prices. Rows are never changed: a new price is a new row valid from a
moment, so a session keeps the price in force when it was booked (`price_at` its
`created_at`: billing charges it, `billing.pricing`), and the catalogue (the API's massage
types, the portal's booking page) shows the price in force now for the type's default length
(`with_current_price`). It lives with the catalogue, in the lowest app that shows it; billing
builds on it. Registered with the app by `practice.models`.

Amounts are entered as the practice's billing policy says (gross by default, tax included);
the columns keep three decimal places so that currencies with a thousandth (KWD) fit too.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from practice.models import MassageType, PracticeOwned


def money_field(verbose_name: str | Any, **options: Any) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=3, **options)


def percent_field(verbose_name: str | Any, **options: Any) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        **options,
    )


class Price(PracticeOwned):
    """A price of a massage type for a duration, from a moment on. Rows are never changed: a
    new price is a new row, so a session keeps the price in force when it was booked."""

    massage_type = models.ForeignKey(MassageType, on_delete=models.PROTECT, related_name="prices")
    minutes = models.PositiveSmallIntegerField(
        _("minutes"), validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    amount = money_field(_("price"), validators=[MinValueValidator(Decimal(0))])
    tax_rate = percent_field(
        _("tax rate (%)"), null=True, blank=True, help_text=_("Empty: the practice's rate.")
    )
    valid_from = models.DateTimeField(_("valid from"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        ordering = ["massage_type", "minutes", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "massage_type", "minutes", "valid_from"],
                name="price_list_one_per_moment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.massage_type} · {self.minutes} min · {self.amount}"


def price_set(
    *,
    massage_type: MassageType,
    minutes: int,
    amount: Decimal,
    tax_rate: Decimal | None = None,
    valid_from: datetime | None = None,
) -> Price:
    """A new price from `valid_from` (now): earlier bookings keep theirs."""
    price = Price(
        practice_id=massage_type.practice_id,
        massage_type=massage_type,
        minutes=minutes,
        amount=amount,
        tax_rate=tax_rate,
        valid_from=valid_from or timezone.now(),
    )
    price.full_clean()
    price.save()
    return price


def price_at(*, massage_type: MassageType, minutes: int, moment: datetime) -> Price | None:
    """The price of `minutes` of the type in force at `moment`."""
    return (
        Price.objects.for_practice(massage_type.practice_id)
        .filter(massage_type=massage_type, minutes=minutes, valid_from__lte=moment)
        .order_by("-valid_from")
        .first()
    )


def with_current_price(
    types: QuerySet[MassageType], *, at: datetime | None = None
) -> QuerySet[MassageType]:
    """`types`, each with `price`: the amount in force `at` (now) for its default length, or
    None (priced on request). One subquery, not a query per type."""
    current = (
        Price.objects.filter(
            massage_type=OuterRef("pk"),
            minutes=OuterRef("default_minutes"),
            valid_from__lte=at or timezone.now(),
        )
        .order_by("-valid_from")
        .values("amount")[:1]
    )
    return types.annotate(price=Subquery(current))


def prices_changed_at(practice_id: int, *, at: datetime | None = None) -> datetime | None:
    """When the practice's current prices last changed: a row added, or one coming into force
    (a price set ahead changes the catalogue without any row being written then)."""
    moment = at or timezone.now()
    rows = Price.objects.for_practice(practice_id).filter(valid_from__lte=moment)
    newest = rows.aggregate(added=models.Max("created_at"), started=models.Max("valid_from"))
    return max((value for value in newest.values() if value is not None), default=None)
