"""`make run`'s demo history gives every report something real to show."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from courses.models import Course, CourseStatus
from practice.models import Practice
from reports.period import Period
from reports.registry import registry
from sessions.models import Session, SessionStatus
from tests.clock import local, today

pytestmark = pytest.mark.django_db


def test_the_demo_history_feeds_every_report(db) -> None:
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo_history", stdout=StringIO())
    again = StringIO()
    call_command("seed_demo_history", stdout=again)
    practice = Practice.objects.get(slug="linden")
    sessions = Session.objects.for_practice(practice)
    courses = Course.objects.for_practice(practice)

    assert "history already" in again.getvalue()
    for status in SessionStatus.COMPLETED, SessionStatus.NO_SHOW, SessionStatus.CANCELLED:
        assert sessions.filter(status=status).exists()
    assert sessions.filter(late_cancellation=True).exists()
    for status in CourseStatus.COMPLETED, CourseStatus.INTERRUPTED, CourseStatus.CANCELLED:
        assert courses.filter(status=status).exists()
    period = Period(today(practice, days=-90), today(practice))
    for report in registry.all():
        for table in report.tables(practice=practice, period=period):
            figures = [
                value
                for row in table.rows
                for value, column in zip(row, table.columns, strict=True)
                if not column.key.endswith("_id")
            ]
            assert any(figures), (report.slug, table.key)
    rotation = registry.get("r12-rotation")
    assert rotation is not None
    # R12: now and then a course repeats the type with the same therapist, for the report.
    assert any(row[3] for row in rotation.tables(practice=practice, period=period)[0].rows)
    # History only: nothing booked from today on, so no reminder is missing.
    assert not sessions.filter(starts_at__gte=local(practice, today(practice), 0)).exists()
