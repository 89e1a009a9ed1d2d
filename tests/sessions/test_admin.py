"""The admin shows sessions and courses, scoped to the manager's practice, read-only."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from practice.models import Role
from tests.factories import TherapistFactory
from tests.sessions.factories import session_row

pytestmark = pytest.mark.django_db


def test_manager_sees_own_practice_sessions_only(client, practice, other_practice, member) -> None:
    manager = member(practice, Role.MANAGER)
    day = timezone.now().date() + timedelta(days=3)
    mine = session_row(
        therapist=TherapistFactory(practice=practice),
        starts_at=datetime.combine(day, time(10), tzinfo=practice.zone),
    )
    theirs = session_row(
        therapist=TherapistFactory(practice=other_practice),
        starts_at=datetime.combine(day, time(10), tzinfo=other_practice.zone),
    )
    client.force_login(manager)
    listing = client.get("/admin/therapy_sessions/session/")
    assert listing.status_code == 200
    assert f"/admin/therapy_sessions/session/{mine.pk}/change/" in listing.text
    assert f"/admin/therapy_sessions/session/{theirs.pk}/change/" not in listing.text
    assert client.get(f"/admin/therapy_sessions/session/{mine.pk}/change/").status_code == 200
    assert client.get("/admin/therapy_sessions/session/add/").status_code == 403
    assert client.get("/admin/courses/course/").status_code == 200
