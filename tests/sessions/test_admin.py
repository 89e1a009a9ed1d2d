"""The admin shows sessions and courses, scoped to the manager's practice, read-only."""

from __future__ import annotations

import pytest

from tests.clock import local, today
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


def test_manager_sees_own_practice_sessions_only(manager_client, practice, other_practice) -> None:
    day = today(practice, days=3)
    mine = SessionFactory(practice=practice, starts_at=local(practice, day, 10))
    theirs = SessionFactory(practice=other_practice, starts_at=local(other_practice, day, 10))
    listing = manager_client.get("/admin/therapy_sessions/session/")
    assert listing.status_code == 200
    assert f"/admin/therapy_sessions/session/{mine.pk}/change/" in listing.text
    assert f"/admin/therapy_sessions/session/{theirs.pk}/change/" not in listing.text
    assert (
        manager_client.get(f"/admin/therapy_sessions/session/{mine.pk}/change/").status_code == 200
    )
    assert manager_client.get("/admin/therapy_sessions/session/add/").status_code == 403
    assert manager_client.get("/admin/courses/course/").status_code == 200
