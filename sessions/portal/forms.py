"""Forms of the patient portal's booking pages. They check shapes only (a date is a date, a
type is one of those offered); whether a time is free and whether a patient may have a type
are decided by `sessions.booking.sessions`, `sessions.availability` and `patients.services`, whose
answers the views put next to the fields."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from practice.models import MassageType, Therapist

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DayForm(forms.Form):
    """The day to look for free times on (the practice's local date)."""

    day = forms.DateField(label=_("Date"), widget=DATE_INPUT)

    def __init__(self, *args: Any, first: date, last: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.first, self.last = first, last
        self.fields["day"].widget.attrs.update(min=first.isoformat(), max=last.isoformat())

    def clean_day(self) -> date:
        day: date = self.cleaned_data["day"]
        # Only to say so plainly: outside these days availability simply finds nothing (R23).
        if day < self.first:
            raise forms.ValidationError(_("Choose today or a later day."))
        if day > self.last:
            raise forms.ValidationError(
                _("The practice takes bookings up to %(day)s.")
                % {"day": self.last.strftime("%Y-%m-%d")}
            )
        return day


def price_text(massage_type: MassageType, currency: str) -> str:
    """The type's price as the patient reads it (`price`, annotated by
    `practice.prices.with_current_price`); a type without one is priced on request."""
    price = getattr(massage_type, "price", None)
    if price is None:
        return str(_("price on request"))
    return f"{number_format(price, 2)} {currency}"


class MassageTypeChoiceField(forms.ModelChoiceField):
    """Each type with its length and price, so the patient sees them before choosing."""

    def __init__(self, *args: Any, currency: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def label_from_instance(self, obj: MassageType) -> str:
        return str(
            _("%(type)s, %(minutes)s min, %(price)s")
            % {
                "type": obj.display_name,
                "minutes": obj.default_minutes,
                "price": price_text(obj, self.currency),
            }
        )


class BookingSearchForm(DayForm):
    """A massage type the patient is cleared for, a therapist or anyone, and a day."""

    massage_type = MassageTypeChoiceField(
        label=_("Massage type"), queryset=MassageType.objects.none(), empty_label=None
    )
    therapist = forms.ModelChoiceField(
        label=_("Therapist"),
        queryset=Therapist.objects.none(),
        required=False,
        empty_label=_("Anyone"),
    )

    field_order = ["massage_type", "therapist", "day"]

    def __init__(
        self,
        *args: Any,
        massage_types: QuerySet[MassageType],
        therapists: QuerySet[Therapist],
        currency: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Only the types offered (R1) and the practice's own therapists: any other id, even
        # typed into a crafted request, is "not one of the available choices".
        massage_type = self.fields["massage_type"]
        assert isinstance(massage_type, MassageTypeChoiceField)
        massage_type.queryset = massage_types
        massage_type.currency = currency
        therapist = self.fields["therapist"]
        assert isinstance(therapist, forms.ModelChoiceField)
        therapist.queryset = therapists


def parse_start(value: str) -> datetime | None:
    """A slot's start as the page sent it (ISO 8601 with its offset), or None."""
    try:
        parsed = parse_datetime(value or "")
    except ValueError:
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return parsed


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Set by the page that showed the late-cancellation warning: a cancel that became late
    # after the page was opened is shown the warning again instead of going through.
    late_confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
