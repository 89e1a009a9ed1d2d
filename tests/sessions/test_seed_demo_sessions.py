"""The demo's sessions are booked through the booking service: each in a room that suits it."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from practice.models import Practice
from sessions.models import Session

pytestmark = pytest.mark.django_db


def test_demo_sessions_each_have_a_room_that_suits_their_type(capsys) -> None:
    call_command("seed_demo")
    call_command("seed_demo_sessions")
    call_command("seed_demo_sessions")

    linden = Practice.objects.get(slug="linden")
    sessions = list(Session.objects.for_practice(linden).select_related("room", "massage_type"))
    assert sessions
    for session in sessions:
        assert session.room is not None
        kept_for = set(session.room.massage_types.values_list("code", flat=True))
        assert not kept_for or session.massage_type.code in kept_for
    # Three therapists at once with two general rooms: the honey room takes only its types.
    assert {s.room.name for s in sessions if s.room} == {"Room 1", "Room 2", "Honey room"}
    assert "booked already" in capsys.readouterr().out
