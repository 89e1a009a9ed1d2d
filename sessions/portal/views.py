"""The patient portal's booking pages: my sessions and my course, booking a
single session, moving and cancelling it, an .ics per session and a personal calendar feed.

Views are thin, like the API's: a form checks shapes, then the same selectors and services the
API calls decide (`session_list`, `session_book`, `session_reschedule`, `session_cancel`,
`patient_may_receive`, the availability calendar). Every session is looked up through
`session_list(membership=...)`, which narrows a patient to their own rows, so another
patient's session is a 404.

Invitations are in `accounts` (the service in `patients.invitations`), calendar files in
`calendar_files`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from courses.models import CourseStatus
from patients.eligibility import patient_may_receive
from patients.models import Patient, Screening
from practice.errors import Conflict
from practice.models import MassageType, Practice, Therapist
from practice.pages import Notices, form_status, redirect_with_notice
from practice.prices import with_current_price
from practice.tenancy import PracticeRequest
from practice.web import patient_page
from sessions.availability import Slot, availability
from sessions.booking.holds import payment_due
from sessions.booking.sessions import (
    cancellation_is_late,
    first_visit_self_report,
    session_book,
    session_cancel,
    session_reschedule,
)
from sessions.models import HELD_STATUSES, Session, SessionStatus
from sessions.portal.access import own_patient, own_session
from sessions.portal.calendar_files import feed_token
from sessions.portal.forms import (
    BookingSearchForm,
    CancelForm,
    DayForm,
    parse_start,
)
from sessions.selectors import course_list, course_progress, session_list

logger = logging.getLogger(__name__)


NOTICES = Notices(
    {
        "booked": gettext_lazy("Your session is booked."),
        "moved": gettext_lazy("Your session is moved."),
        "cancelled": gettext_lazy("Your session is cancelled."),
        "feed-renewed": gettext_lazy(
            "Your calendar feed has a new address. Subscribe to it again in your calendar app: "
            "the old address no longer works."
        ),
        "cancelled-late": gettext_lazy(
            "Your session is cancelled. It was inside the notice period, so it is recorded as a "
            "late cancellation."
        ),
        "cancelled-course": gettext_lazy(
            "Your session is cancelled. It belongs to a course: please book it again soon so the "
            "course keeps its rhythm; the front desk can help."
        ),
    }
)
render_page = NOTICES.render


def _url(request: PracticeRequest, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"practice_slug": request.practice.slug, **kwargs})


def _redirect(request: PracticeRequest, name: str, notice: str, **kwargs: object) -> HttpResponse:
    return redirect_with_notice(_url(request, name, **kwargs), notice)


def _today(practice: Practice, now: datetime) -> date:
    return now.astimezone(practice.zone).date()


def _last_bookable_day(practice: Practice, today: date) -> date:
    # The same horizon as `sessions.availability.horizon_end` (R23), as a day for the form.
    return today + timedelta(days=practice.settings.booking_horizon_days)


def _may_change(session: Session, now: datetime) -> bool:
    """Whether the page offers moving and cancelling; the services decide for real."""
    return session.status == SessionStatus.BOOKED and session.starts_at > now


def _findings_text(reasons: tuple[Any, ...]) -> list[str]:
    return [f"{finding.rule}: {finding.text}" for finding in reasons] or [
        _("This massage type cannot be booked for you on that day.")
    ]


# --- Free times -------------------------------------------------------------------------------


def open_starts(
    *,
    practice: Practice,
    therapist_ids: list[int],
    massage_type: MassageType,
    day: date,
    minutes: int,
    patient: Patient,
    now: datetime,
    session: Session | None = None,
) -> list[Slot]:
    """Free starts on `day` for any of the therapists: `availability()`, with the patient's
    own sessions counted (a time that would overlap one of theirs is not offered), a room
    that suits the type free (R19) and, when moving `session`, its own time freed."""
    if not therapist_ids:
        return []
    return availability(
        practice=practice,
        therapist_ids=therapist_ids,
        first=day,
        last=day,
        minutes=minutes,
        now=now,
        patient_id=patient.pk,
        exclude_session_id=session.pk if session is not None else None,
        massage_type_id=massage_type.pk,
    )


def _qualified_therapist_ids(practice: Practice, massage_type: MassageType) -> list[int]:
    # "Any qualified therapist", chosen like the API's availability does.
    return list(
        Therapist.objects.for_practice(practice)
        .filter(active=True, massage_types=massage_type)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def offered_types(
    *, practice: Practice, patient: Patient, on: date, self_report: Screening | None = None
) -> QuerySet[MassageType]:
    """The active types with a therapist that the patient is cleared for on `on` (R1-R8,
    decided by `patient_may_receive`; for a first visit, on their questionnaire `self_report`).
    R8's block of a single day is not the type's: it is the answer for that day, given when
    the patient picks it."""
    candidates = (
        MassageType.objects.for_practice(practice)
        # The practice's choice: some types only the desk books (the booking service agrees).
        .filter(active=True, online_bookable=True, therapists__active=True)
        .distinct()
    )
    allowed = [
        kind.pk
        for kind in candidates
        if not any(
            not reason.day_only
            for reason in patient_may_receive(
                patient=patient, massage_type=kind, on=on, self_report=self_report
            ).reasons
        )
    ]
    # With the price in force now, which the choice shows (`practice.prices`).
    return with_current_price(MassageType.objects.for_practice(practice).filter(pk__in=allowed))


def offered_therapists(*, practice: Practice, types: QuerySet[MassageType]) -> QuerySet[Therapist]:
    """The active therapists who give at least one of the types offered, for "with whom"."""
    return (
        Therapist.objects.for_practice(practice)
        .filter(active=True, massage_types__in=types)
        .distinct()
        .order_by("name", "pk")
    )


TAKEN = gettext_lazy("This time is no longer free. Please choose another one.")


def _take(
    request: PracticeRequest,
    openings: list[Slot],
    write: Callable[[Slot], Session],
    *,
    notice: str,
) -> HttpResponse | tuple[str, int]:
    """The time a patient sent, looked up among the free times just read (so a time taken
    meanwhile, or one never offered, is refused plainly), then written by `write`, one service
    call. A redirect to the session (or to pay what holds it), or the message and status to
    show with the free times: 409 for a time that is not free (the service's own conflict
    included), 400 for a refusal."""
    starts_at = parse_start(request.POST.get("starts_at", ""))
    opening = next((o for o in openings if o.starts_at == starts_at), None)
    if opening is None:
        return str(TAKEN), 409
    try:
        session = write(opening)
    except Conflict as exc:
        return str(exc.detail), 409
    except ValidationError as exc:
        return " ".join(exc.messages), 400
    if (due := payment_due(session)) is not None:
        # Held until paid (a deposit, `sessions.booking.holds`): on to the page that pays it.
        return redirect(due.page_url)
    return _redirect(request, "portal:session", notice, pk=session.pk)


def _slots_context(
    request: HttpRequest,
    form: DayForm,
    openings: list[Slot] | None,
    slot_error: str,
    *,
    action: str,
    submit_label: str,
) -> dict[str, Any]:
    """What `_slots.html` needs: the free times, and the search's own fields carried along
    as hidden inputs so that "Book" re-reads the same type and day."""
    valid = form.is_bound and not form.errors
    keep = (
        [
            (name, value.isoformat() if isinstance(value, date) else value.pk)
            for name, value in form.cleaned_data.items()
            # "Anyone" is no therapist: left out, as the search form sends it.
            if value is not None
        ]
        if valid
        else []
    )
    return {
        "openings": openings,
        "slot_error": slot_error,
        "action": action,
        "submit_label": submit_label,
        "keep": keep,
        "day": form.cleaned_data.get("day") if valid else None,
        "partial": bool(request.headers.get("HX-Request")),
    }


# --- My sessions ------------------------------------------------------------------------------


def _upcoming(request: PracticeRequest, now: datetime) -> QuerySet[Session]:
    return (
        session_list(membership=request.membership)
        .filter(status__in=HELD_STATUSES, ends_at__gt=now)
        .order_by("starts_at", "id")
    )


def _current_course(request: PracticeRequest) -> dict[str, Any] | None:
    """The patient's current course and its progress (done, left): two queries."""
    course = (
        course_list(membership=request.membership, with_sessions=True)
        .filter(status__in=[CourseStatus.PLANNED, CourseStatus.ACTIVE, CourseStatus.INTERRUPTED])
        .first()
    )
    if course is None:
        return None
    return {"course": course, "progress": course_progress(course, course.sessions.all())}


@patient_page
def my_sessions(request: PracticeRequest) -> HttpResponse:
    """Upcoming sessions and the current course. Asked by htmx (the portal home loads it
    into its page), only the summary fragment is sent."""
    patient = own_patient(request)
    now = timezone.now()
    context = {
        "patient": patient,
        "upcoming": list(_upcoming(request, now)),
        "current": _current_course(request),
        "now": now,
    }
    if request.headers.get("HX-Request"):
        return render(request, "sessions/portal/_summary.html", context)
    feed_url = request.build_absolute_uri(_url(request, "portal:feed", token=feed_token(patient)))
    # webcal:// makes a click open the calendar app's "subscribe" dialog.
    context.update(feed_url=feed_url, webcal_url="webcal" + feed_url[feed_url.index(":") :])
    return render_page(request, "sessions/portal/my_sessions.html", context)


@patient_page
def session_detail(request: PracticeRequest, pk: int) -> HttpResponse:
    session = own_session(request, pk)
    now = timezone.now()
    return render_page(
        request,
        "sessions/portal/session_detail.html",
        {"session": session, "may_change": _may_change(session, now)},
    )


# --- Booking ----------------------------------------------------------------------------------


@patient_page
@require_http_methods(["GET", "POST"])
def book(request: PracticeRequest) -> HttpResponse:
    """Pick a type (only those the patient is cleared for), a day, then a free time; "Book"
    re-reads the free times and calls `session_book`, so a time taken meanwhile is refused
    with a plain message, never booked twice."""
    patient = own_patient(request)
    practice = request.practice
    now = timezone.now()
    today = _today(practice, now)
    self_report = first_visit_self_report(patient=patient)
    types = offered_types(practice=practice, patient=patient, on=today, self_report=self_report)
    posted = request.method == "POST"
    query = request.POST if posted else request.GET
    form = BookingSearchForm(
        query if ("massage_type" in query or "day" in query) else None,
        massage_types=types,
        therapists=offered_therapists(practice=practice, types=types),
        currency=practice.settings.currency,
        first=today,
        last=_last_bookable_day(practice, today),
        initial={"day": today},
    )
    openings: list[Slot] | None = None
    slot_error = ""
    status = 200
    if form.is_bound and form.is_valid():
        kind: MassageType = form.cleaned_data["massage_type"]
        day: date = form.cleaned_data["day"]
        # Cleared today is not cleared on the day: the screening may run out before it (R1).
        eligibility = patient_may_receive(
            patient=patient, massage_type=kind, on=day, self_report=self_report
        )
        therapist_ids = _qualified_therapist_ids(practice, kind)
        chosen: Therapist | None = form.cleaned_data["therapist"]
        if chosen is not None and chosen.pk not in therapist_ids:
            form.add_error(
                "therapist",
                _("%(therapist)s does not give %(type)s.")
                % {"therapist": chosen.name, "type": kind.display_name},
            )
        elif not eligibility.allowed:
            form.add_error("massage_type", _findings_text(eligibility.reasons))
        else:
            openings = open_starts(
                practice=practice,
                therapist_ids=[chosen.pk] if chosen is not None else therapist_ids,
                massage_type=kind,
                day=day,
                minutes=kind.default_minutes,
                patient=patient,
                now=now,
            )
            if posted:

                def book_it(opening: Slot) -> Session:
                    return session_book(
                        practice=practice,
                        patient=patient,
                        therapist=Therapist.objects.for_practice(practice).get(
                            pk=opening.therapist_ids[0]
                        ),
                        massage_type=kind,
                        starts_at=opening.starts_at,
                        booked_by=request.user,
                        now=now,
                        by_patient=True,
                        online=True,
                    )

                outcome = _take(request, openings, book_it, notice="booked")
                if isinstance(outcome, HttpResponse):
                    return outcome
                slot_error, status = outcome
    if status == 200:
        status = form_status(request, form)
    template = (
        "sessions/portal/_slots.html"
        if request.headers.get("HX-Request") and not posted
        else "sessions/portal/book.html"
    )
    return render_page(
        request,
        template,
        {
            "patient": patient,
            "form": form,
            "has_types": types.exists(),
            **_slots_context(
                request,
                form,
                openings,
                slot_error,
                action=_url(request, "portal:book"),
                submit_label=_("Book this time"),
            ),
        },
        status=status,
    )


# --- Moving and cancelling ----------------------------------------------------------------------


@patient_page
@require_http_methods(["GET", "POST"])
def session_move(request: PracticeRequest, pk: int) -> HttpResponse:
    """Another free time for the same session (same therapist, length and room), moved by
    `session_reschedule`."""
    session = own_session(request, pk)
    practice = request.practice
    now = timezone.now()
    if not _may_change(session, now):
        return render_page(
            request,
            "sessions/portal/session_detail.html",
            {"session": session, "may_change": False},
            status=409,
        )
    today = _today(practice, now)
    posted = request.method == "POST"
    query = request.POST if posted else request.GET
    form = DayForm(
        query if "day" in query else None,
        first=today,
        last=_last_bookable_day(practice, today),
        initial={"day": session.starts_at.astimezone(practice.zone).date()},
    )
    openings: list[Slot] | None = None
    slot_error = ""
    status = 200
    if form.is_bound and form.is_valid():
        day: date = form.cleaned_data["day"]
        # A single session needs the patient cleared on its new day too (R1), as when booking;
        # a course session stays under the screening that opened its course.
        eligibility = (
            patient_may_receive(patient=session.patient, massage_type=session.massage_type, on=day)
            if session.course_id is None
            else None
        )
        if eligibility is not None and not eligibility.allowed:
            form.add_error("day", _findings_text(eligibility.reasons))
        else:
            openings = [
                o
                for o in open_starts(
                    practice=practice,
                    therapist_ids=[session.therapist_id],
                    massage_type=session.massage_type,
                    day=day,
                    minutes=session.minutes,
                    patient=session.patient,
                    now=now,
                    session=session,
                )
                if o.starts_at != session.starts_at
            ]
            if posted:

                def move_it(opening: Slot) -> Session:
                    return session_reschedule(
                        session=session,
                        starts_at=opening.starts_at,
                        by=request.user,
                        now=now,
                        by_patient=True,
                    )

                outcome = _take(request, openings, move_it, notice="moved")
                if isinstance(outcome, HttpResponse):
                    return outcome
                slot_error, status = outcome
    if status == 200:
        status = form_status(request, form)
    template = (
        "sessions/portal/_slots.html"
        if request.headers.get("HX-Request") and not posted
        else "sessions/portal/move.html"
    )
    return render_page(
        request,
        template,
        {
            "session": session,
            "form": form,
            **_slots_context(
                request,
                form,
                openings,
                slot_error,
                action=_url(request, "portal:move", pk=session.pk),
                submit_label=_("Move to this time"),
            ),
        },
        status=status,
    )


@patient_page
@require_http_methods(["GET", "POST"])
def session_cancel_view(request: PracticeRequest, pk: int) -> HttpResponse:
    """Cancel with `session_cancel`. Inside the practice's notice the page first says it will
    count as a late cancellation, and only a form sent from that warning goes through."""
    session = own_session(request, pk)
    now = timezone.now()
    if not _may_change(session, now):
        return render_page(
            request,
            "sessions/portal/session_detail.html",
            {"session": session, "may_change": False},
            status=409,
        )
    late = cancellation_is_late(session, now)
    form = CancelForm(
        request.POST if request.method == "POST" else None, initial={"late_confirmed": late}
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        if late and not form.cleaned_data["late_confirmed"]:
            # The notice ran out since the page was opened: warn before cancelling.
            form = CancelForm(initial={"late_confirmed": True})
            status = 409
        else:
            try:
                result = session_cancel(
                    session=session,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    now=now,
                    by_patient=True,
                )
            except Conflict as exc:
                form.add_error(None, str(exc.detail))
            else:
                notice = "cancelled-late" if result.late else "cancelled"
                if result.session.course_id is not None and not result.late:
                    notice = "cancelled-course"
                return _redirect(request, "portal:my-sessions", notice)
    if status == 200:
        status = form_status(request, form)
    return render_page(
        request,
        "sessions/portal/cancel.html",
        {
            "session": session,
            "form": form,
            "late": late,
            "notice_hours": request.practice.settings.cancellation_notice_hours,
        },
        status=status,
    )
