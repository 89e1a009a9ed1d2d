"""A therapist's own day ("My day"), where a therapist lands on the staff pages: their
sessions in order with what matters before each at a glance (the patient's hypertension, R7
and R8; R8's day block; the zones closed for them, R3 and R17; the last session's notes),
and the links to check in, start and open each session. Built for a tablet in the
treatment room as much as for a desk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from patients.screening import Finding, Zone
from practice.models import Therapist
from practice.tenancy import PracticeRequest
from practice.web import staff_page
from sessions.day.clinical import local_day, session_clinical
from sessions.day.running import may_run_session
from sessions.models import Session, SessionStatus
from sessions.pages.calendar import DayForm
from sessions.selectors import therapist_day


@dataclass(frozen=True)
class DaySession:
    session: Session
    hypertensive: bool
    # R8: a reading over the limit that day: the session must not go ahead.
    day_blocks: tuple[Finding, ...]
    # R3: the zones the screening or the check-in closed, by their labels.
    closed_zones: tuple[str, ...]
    last_notes: str
    may_start: bool


def _day_session(request: PracticeRequest, session: Session) -> DaySession:
    # The rules read the practice's zone through both: the request's, not a query each.
    session.practice = session.patient.practice = request.practice
    clinical = session_clinical(session, local_day(session, session.starts_at))
    labels = dict(Zone.choices)
    return DaySession(
        session=session,
        hypertensive=clinical.hypertensive,
        day_blocks=tuple(r for r in clinical.eligibility.reasons if r.day_only)
        if session.status == SessionStatus.BOOKED
        else (),
        closed_zones=tuple(sorted(str(labels.get(z, z)) for z in clinical.blocked_zones)),
        # Annotated by `therapist_day`.
        last_notes=getattr(session, "last_notes", None) or "",
        may_start=session.status == SessionStatus.CHECKED_IN
        and may_run_session(membership=request.membership, session=session),
    )


def _day_url(request: PracticeRequest, day: date) -> str:
    page = reverse("sessions:my-day", kwargs={"practice_slug": request.practice.slug})
    return f"{page}?day={day.isoformat()}"


@staff_page
def my_day(request: PracticeRequest) -> HttpResponse:
    """The signed-in staff member's own sessions on a day (today unless `?day=` says)."""
    practice = request.practice
    today = timezone.localdate(timezone=practice.zone)
    form = DayForm(request.GET or {"day": today.isoformat()})
    day = form.cleaned_data["day"] if form.is_valid() else today
    therapist = Therapist.objects.for_practice(practice).filter(user=request.user).first()
    sessions = (
        [_day_session(request, s) for s in therapist_day(therapist=therapist, day=day)]
        if therapist is not None
        else []
    )
    context = {
        "form": form,
        "day": day,
        "is_today": day == today,
        "therapist": therapist,
        "sessions": sessions,
        "previous_url": _day_url(request, day - timedelta(days=1)),
        "next_url": _day_url(request, day + timedelta(days=1)),
        "today_url": _day_url(request, today),
    }
    return render(request, "sessions/my_day.html", context, status=400 if form.errors else 200)
