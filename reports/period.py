"""The period a report covers: from one local day to another, in the practice's time zone
(R24), counted by week or by month. One check (`period_from`) for the pages and the API."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from practice.calendar import FIRST_YEAR, LAST_YEAR, local_range
from practice.models import Practice

# A report reads a year or two of history at most: this bounds what one request computes
# (utilisation walks the calendar day by day).
MAX_DAYS = 2 * 366
DEFAULT_MONTHS = 3


class Grouping(StrEnum):
    WEEK = "week"
    MONTH = "month"


GROUPING_CHOICES = [(Grouping.WEEK, _("By week")), (Grouping.MONTH, _("By month"))]


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (the month's last day when it has fewer)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    grouping: Grouping = Grouping.MONTH

    def instants(self, practice: Practice) -> tuple[datetime, datetime]:
        """From local midnight of the first day to local midnight after the last, in UTC."""
        return local_range(practice, self.first, self.last)

    def bucket(self, day: date) -> date:
        """The first day of the week (Monday) or month holding `day`."""
        if self.grouping == Grouping.WEEK:
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    def buckets(self) -> list[date]:
        """Every week or month the period touches, in order, each by its first day."""
        found, day = [], self.bucket(self.first)
        while day <= self.last:
            found.append(day)
            day = (
                day + timedelta(days=7)
                if self.grouping == Grouping.WEEK
                else months_before(day, -1)
            )
        return found

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def period_from(
    *, first: date | None, last: date | None, grouping: str | None, today: date
) -> Period:
    """The period asked for: to today and from three months before the last day when not
    given. Raises ValidationError naming the field at fault."""
    last = last or today
    first = first or months_before(last, DEFAULT_MONTHS)
    errors: dict[str, Any] = {}
    for name, day in (("from", first), ("to", last)):
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            errors[name] = _("Choose a date between %(first)d and %(last)d.") % {
                "first": FIRST_YEAR,
                "last": LAST_YEAR,
            }
    if not errors and first > last:
        errors["to"] = _("The last day must not be before the first.")
    if not errors and (last - first).days >= MAX_DAYS:
        errors["to"] = _("A report covers at most two years.")
    if grouping not in (None, "", *Grouping):
        errors["group"] = _("Count by week or by month.")
    if errors:
        raise ValidationError(errors)
    return Period(first, last, Grouping(grouping or Grouping.MONTH))


class PeriodForm(forms.Form):
    """The period filter of a report page (GET). Empty fields take their defaults."""

    group = forms.ChoiceField(label=_("Count"), choices=GROUPING_CHOICES, required=False)

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        date_input = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        # `from` is a Python keyword, so these are declared here rather than as attributes.
        fields = {
            "from": forms.DateField(label=_("From"), required=False, widget=date_input),
            "to": forms.DateField(label=_("To"), required=False, widget=date_input),
        }
        self.fields = {**fields, **self.fields}
        self.period: Period | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.period = period_from(
                first=data.get("from"),
                last=data.get("to"),
                grouping=data.get("group"),
                today=self.today,
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name, messages)
        return data
