"""Waiting for a whole course: the course a freed time could start, planned for the waitlist's
offers (`sessions.waitlist.offers`), and booked when its offer is claimed
(`sessions.waitlist.claims`). Both go through the course services (`course_plan`,
`course_book`), so every rule of a course holds at the offer and again at the claim, and the
booking is all of its sessions or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.core.exceptions import ValidationError

from courses.models import Course
from courses.planning import PlannedSession
from courses.services import CourseRequest
from practice.errors import Conflict
from practice.models import Therapist
from sessions.booking.courses import course_book, course_plan
from sessions.models import FreedSlot, WaitlistEntry, WaitlistOffer


def _course_request(
    entry: WaitlistEntry, *, therapist: Therapist, starts_at: datetime
) -> CourseRequest:
    """The entry's course with `therapist`, starting at `starts_at`: that day, at that local
    wall-clock time for every session (R24). The rooms are chosen as for any course."""
    assert entry.sessions_count is not None
    local = starts_at.astimezone(entry.practice.zone)
    return CourseRequest(
        practice=entry.practice,
        patient=entry.patient,
        therapist=therapist,
        massage_type=entry.massage_type,
        start_date=local.date(),
        preferred_time=local.time(),
        sessions_count=entry.sessions_count,
        cadence=entry.cadence,
    )


def waitlist_course_plan(
    entry: WaitlistEntry, slot: FreedSlot, now: datetime
) -> Sequence[PlannedSession] | None:
    """The course the entry's patient could start at the slot's time with the slot's
    therapist, or None when no whole course fits: a session finds no free day before the
    booking horizon, a rule refuses it (R1-R11), or R12 warns, which needs a staff override
    the patient, claiming for themselves, cannot give (another therapist may still fit)."""
    request = _course_request(entry, therapist=slot.therapist, starts_at=slot.starts_at)
    try:
        plan = course_plan(request=request, now=now)
    except (ValidationError, Conflict):
        return None
    return None if plan.override_required else plan.sessions


def waitlist_course_book(offer: WaitlistOffer, *, now: datetime) -> Course:
    """Book the course an offer planned, at the times it offered, as the patient's own
    booking (no override). A session taken since is a Conflict naming it, a rule that no
    longer holds a ValidationError; either way nothing is booked."""
    request = _course_request(offer.entry, therapist=offer.therapist, starts_at=offer.starts_at)
    return course_book(request=request, starts=offer.course_start_times, now=now)
