"""The period filter: defaults, and bad input refused with a message naming the field."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from reports.period import Grouping, Period, months_before, period_from

TODAY = date(2026, 7, 15)


def test_the_default_is_the_last_three_months_by_month() -> None:
    assert period_from(first=None, last=None, grouping=None, today=TODAY) == Period(
        date(2026, 4, 15), TODAY, Grouping.MONTH
    )


def test_a_last_day_alone_goes_back_three_months_from_it() -> None:
    period = period_from(first=None, last=date(2026, 5, 31), grouping="week", today=TODAY)

    assert period == Period(date(2026, 2, 28), date(2026, 5, 31), Grouping.WEEK)


def test_months_before_keeps_the_day_or_the_month_s_last() -> None:
    assert months_before(date(2026, 1, 31), 3) == date(2025, 10, 31)
    assert months_before(date(2026, 5, 31), 3) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 31), -1) == date(2026, 2, 28)


@pytest.mark.parametrize(
    ("first", "last", "grouping", "field"),
    [
        (date(2026, 7, 2), date(2026, 7, 1), None, "to"),
        (date(2020, 1, 1), date(2026, 7, 1), None, "to"),  # longer than two years
        (date(1, 1, 1), date(2026, 7, 1), None, "from"),
        (date(2026, 1, 1), date(9999, 12, 31), None, "to"),
        (date(2026, 1, 1), date(2026, 2, 1), "day", "group"),
    ],
)
def test_a_bad_period_names_the_field(first, last, grouping, field) -> None:
    with pytest.raises(ValidationError) as raised:
        period_from(first=first, last=last, grouping=grouping, today=TODAY)

    assert list(raised.value.message_dict) == [field]


def test_buckets_cover_the_period_by_week_and_month() -> None:
    by_month = Period(date(2026, 1, 31), date(2026, 3, 1), Grouping.MONTH)
    by_week = Period(date(2026, 7, 1), date(2026, 7, 13), Grouping.WEEK)

    assert by_month.buckets() == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert by_week.buckets() == [date(2026, 6, 29), date(2026, 7, 6), date(2026, 7, 13)]
