"""Every report costs a constant number of queries, whatever the practice's history: the
figures are aggregated by the database, not counted row by row."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.period import Grouping, Period
from reports.registry import registry

pytestmark = pytest.mark.django_db

QUERIES = {
    # therapists, rooms, the calendar (1), booked hours by therapist and by room
    "utilisation": 5,
    # by period, by therapist, the therapists
    "no-shows": 3,
    # by period, by type, the types
    "courses": 3,
    # the courses due (patients, their courses, the rotation, screenings; one more for the
    # last courses' sessions when a due patient had a course), the distribution, the totals
    "r11-courses-per-year": 6,
    # the consecutive courses, the therapists
    "r12-rotation": 2,
}


def test_every_report_s_queries_are_listed() -> None:
    assert sorted(QUERIES) == sorted(report.slug for report in registry.all())


@pytest.mark.parametrize("slug", sorted(QUERIES))
def test_a_report_costs_the_same_queries_for_small_and_large_history(
    slug, practice, history, django_assert_num_queries
) -> None:
    report = registry.get(slug)
    assert report is not None
    period = Period(date(2026, 1, 1), date(2026, 7, 31), Grouping.WEEK)
    history(practice, 1, "Small")
    with CaptureQueriesContext(connection) as small:
        small_tables = report.tables(practice=practice, period=period)
    history(practice, 4, "Large")

    with django_assert_num_queries(QUERIES[slug]):
        large_tables = report.tables(practice=practice, period=period)

    assert len(small) == QUERIES[slug]
    # The larger history shows in the figures: the same queries read more rows.
    assert [t.rows for t in large_tables] != [t.rows for t in small_tables]
