"""The patient portal's booking pages: invitation sign-up, my sessions and my course, booking a
single session, moving and cancelling it, an .ics per session and a personal calendar feed.

Views are thin, like the API's: a form checks shapes, then the same selectors and services the
API calls decide (`session_list`, `session_book`, `session_reschedule`, `session_cancel`,
`patient_may_receive`, the availability calendar). Every session is looked up through
`session_list(membership=...)`, which narrows a patient to their own rows, so another
patient's session is a 404.

The invitation has no table of its own: it is a signed, expiring token naming the practice,
the patient record and the address it was sent to. It is spent once the record is linked to
an account, and void as soon as the record's address changes.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from courses.models import CourseStatus
from courses.selectors import course_list, course_progress
from patients.forms import errors_to_form
from patients.models import Patient
from patients.selectors import patients_visible_to
from patients.services import patient_may_receive, patient_update
from practice.api_errors import Conflict
from practice.models import MassageType, Membership, Practice, Role, Therapist, User
from practice.services import membership_grant
from practice.web import patient_page, staff_page
from sessions.availability import calendar_load, from_epoch
from sessions.forms_portal import (
    BookingSearchForm,
    CancelForm,
    DayForm,
    InvitationExistingAccountForm,
    InvitationNewAccountForm,
    parse_start,
)
from sessions.ics import (
    ICS_CONTENT_TYPE,
    CalendarEvent,
    EventStatus,
    calendar_feed,
    session_ics,
    session_uid,
)
from sessions.models import ACTIVE, FREEING_STATUSES, Session, SessionStatus
from sessions.selectors import session_list
from sessions.services import (
    cancellation_is_late,
    session_book,
    session_cancel,
    session_reschedule,
)

logger = logging.getLogger(__name__)

INVITATION_SALT = "sessions.portal.invitation"
INVITATION_DAYS = 7
FEED_SALT = "sessions.portal.calendar-feed"
# The feed keeps recent history too, so a calendar does not drop last week's session at once.
FEED_HISTORY = timedelta(days=90)
# Sessions still ahead that a patient can act on.
HELD_STATUSES = (SessionStatus.BOOKED, SessionStatus.CHECKED_IN, SessionStatus.IN_PROGRESS)

# What a page says after a redirect ("?notice=booked"): a fixed list, so no text from the URL
# is ever shown (as on the patients pages).
NOTICES = {
    "booked": _lazy("Your session is booked."),
    "moved": _lazy("Your session is moved."),
    "cancelled": _lazy("Your session is cancelled."),
    "cancelled-late": _lazy(
        "Your session is cancelled. It was inside the notice period, so it is recorded as a "
        "late cancellation."
    ),
    "cancelled-course": _lazy(
        "Your session is cancelled. It belongs to a course: please book it again soon so the "
        "course keeps its rhythm; the front desk can help."
    ),
}


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    notice = NOTICES.get(request.GET.get("notice", ""))
    return render(request, template, {**context, "notice": notice}, status=status)


def _form_status(request: HttpRequest, form: Form) -> int:
    """400 for a form sent back with errors, except to htmx, which swaps only 2xx answers in."""
    if form.is_bound and form.errors and not request.headers.get("HX-Request"):
        return 400
    return 200


def _url(request: HttpRequest, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"practice_slug": request.practice.slug, **kwargs})


def _redirect(request: HttpRequest, name: str, notice: str, **kwargs: object) -> HttpResponse:
    return redirect(f"{_url(request, name, **kwargs)}?{urlencode({'notice': notice})}")


def _today(practice: Practice, now: datetime) -> date:
    return now.astimezone(practice.zone).date()


def _last_bookable_day(practice: Practice, today: date) -> date:
    # The same horizon as `sessions.availability.horizon_end` (R23), as a day for the form.
    return today + timedelta(days=practice.settings.booking_horizon_days)


def _own_patient(request: HttpRequest) -> Patient:
    # The same visibility rule as the API and the portal's record page.
    patient = (
        patients_visible_to(membership=request.membership)
        .filter(archived=False)
        .order_by("id")
        .first()
    )
    if patient is None:
        raise Http404(_("No patient record is linked to your account."))
    return patient


def _own_session(request: HttpRequest, pk: int) -> Session:
    session = get_object_or_404(session_list(membership=request.membership), pk=pk)
    # The scoped queryset guarantees this; reusing the request's practice saves a query.
    session.practice = request.practice
    return session


def _may_change(session: Session, now: datetime) -> bool:
    """Whether the page offers moving and cancelling; the services decide for real."""
    return session.status == SessionStatus.BOOKED and session.starts_at > now


def _findings_text(reasons: tuple[Any, ...]) -> list[str]:
    return [f"{finding.rule}: {finding.message}" for finding in reasons] or [
        _("This massage type cannot be booked for you on that day.")
    ]


# --- Free times -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opening:
    starts_at: datetime
    therapist_ids: tuple[int, ...]

    @property
    def value(self) -> str:
        return self.starts_at.isoformat()


def open_starts(
    *,
    practice: Practice,
    therapist_ids: list[int],
    day: date,
    minutes: int,
    patient: Patient,
    now: datetime,
    session: Session | None = None,
) -> list[Opening]:
    """Free starts on `day` for any of the therapists, from the same calendar the services
    check a booking against (R23, R19). Unlike the API's `availability()`, the patient's own
    sessions count too, so a time that would overlap one of theirs is not offered; when
    moving `session`, its own time and room are taken into account."""
    if not therapist_ids:
        return []
    calendar = calendar_load(
        practice=practice,
        therapist_ids=therapist_ids,
        first=day,
        last=day,
        now=now,
        room=session.room if session is not None else None,
        patient_id=patient.pk,
        exclude_session_id=session.pk if session is not None else None,
    )
    by_start: dict[int, list[int]] = defaultdict(list)
    for therapist_id in therapist_ids:
        for start in calendar.free_starts(therapist_id, day, day, minutes):
            by_start[start].append(therapist_id)
    return [Opening(from_epoch(start), tuple(by_start[start])) for start in sorted(by_start)]


def _qualified_therapist_ids(practice: Practice, massage_type: MassageType) -> list[int]:
    # "Any qualified therapist", chosen like the API's availability does.
    return list(
        Therapist.objects.for_practice(practice)
        .filter(active=True, massage_types=massage_type)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def offered_types(*, practice: Practice, patient: Patient, on: date) -> QuerySet[MassageType]:
    """The active types with a therapist that the patient is cleared for on `on` (R1-R8,
    decided by `patient_may_receive`)."""
    candidates = (
        MassageType.objects.for_practice(practice)
        .filter(active=True, therapists__active=True)
        .distinct()
    )
    allowed = [
        kind.pk
        for kind in candidates
        if patient_may_receive(patient=patient, massage_type=kind, on=on).allowed
    ]
    return MassageType.objects.for_practice(practice).filter(pk__in=allowed)


TAKEN = _lazy("This time is no longer free. Please choose another one.")


def _take(
    request: HttpRequest,
    openings: list[Opening],
    write: Callable[[Opening], Session],
    *,
    notice: str,
) -> HttpResponse | tuple[str, int]:
    """The time a patient sent, looked up among the free times just read (so a time taken
    meanwhile, or one never offered, is refused plainly), then written by `write`, one service
    call. A redirect to the session, or the message and status to show with the free times:
    409 for a time that is not free (the service's own conflict included), 400 for a refusal."""
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
    return _redirect(request, "portal:session", notice, pk=session.pk)


def _slots_context(
    request: HttpRequest,
    form: DayForm,
    openings: list[Opening] | None,
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
            (name, value.pk if isinstance(value, MassageType) else value.isoformat())
            for name, value in form.cleaned_data.items()
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


def _upcoming(request: HttpRequest, now: datetime) -> QuerySet[Session]:
    return (
        session_list(membership=request.membership)
        .filter(status__in=HELD_STATUSES, ends_at__gt=now)
        .order_by("starts_at", "id")
    )


def _current_course(request: HttpRequest) -> dict[str, Any] | None:
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
def my_sessions(request: HttpRequest) -> HttpResponse:
    """Upcoming sessions and the current course. Asked by htmx (the portal home loads it
    into its page), only the summary fragment is sent."""
    patient = _own_patient(request)
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
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = _own_session(request, pk)
    now = timezone.now()
    return render_page(
        request,
        "sessions/portal/session_detail.html",
        {"session": session, "may_change": _may_change(session, now)},
    )


# --- Booking ----------------------------------------------------------------------------------


@patient_page
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
    """Pick a type (only those the patient is cleared for), a day, then a free time; "Book"
    re-reads the free times and calls `session_book`, so a time taken meanwhile is refused
    with a plain message, never booked twice."""
    patient = _own_patient(request)
    practice = request.practice
    now = timezone.now()
    today = _today(practice, now)
    types = offered_types(practice=practice, patient=patient, on=today)
    posted = request.method == "POST"
    query = request.POST if posted else request.GET
    form = BookingSearchForm(
        query if ("massage_type" in query or "day" in query) else None,
        massage_types=types,
        first=today,
        last=_last_bookable_day(practice, today),
        initial={"day": today},
    )
    openings: list[Opening] | None = None
    slot_error = ""
    status = 200
    if form.is_bound and form.is_valid():
        kind: MassageType = form.cleaned_data["massage_type"]
        day: date = form.cleaned_data["day"]
        # Cleared today is not cleared on the day: the screening may run out before it (R1).
        eligibility = patient_may_receive(patient=patient, massage_type=kind, on=day)
        if not eligibility.allowed:
            form.add_error("massage_type", _findings_text(eligibility.reasons))
        else:
            openings = open_starts(
                practice=practice,
                therapist_ids=_qualified_therapist_ids(practice, kind),
                day=day,
                minutes=kind.default_minutes,
                patient=patient,
                now=now,
            )
            if posted:

                def book_it(opening: Opening) -> Session:
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
                    )

                outcome = _take(request, openings, book_it, notice="booked")
                if isinstance(outcome, HttpResponse):
                    return outcome
                slot_error, status = outcome
    if status == 200:
        status = _form_status(request, form)
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
def session_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Another free time for the same session (same therapist, length and room), moved by
    `session_reschedule`."""
    session = _own_session(request, pk)
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
    openings: list[Opening] | None = None
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
                    day=day,
                    minutes=session.minutes,
                    patient=session.patient,
                    now=now,
                    session=session,
                )
                if o.starts_at != session.starts_at
            ]
            if posted:

                def move_it(opening: Opening) -> Session:
                    return session_reschedule(
                        session=session, starts_at=opening.starts_at, by=request.user, now=now
                    )

                outcome = _take(request, openings, move_it, notice="moved")
                if isinstance(outcome, HttpResponse):
                    return outcome
                slot_error, status = outcome
    if status == 200:
        status = _form_status(request, form)
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
def session_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel with `session_cancel`. Inside the practice's notice the page first says it will
    count as a late cancellation, and only a form sent from that warning goes through."""
    session = _own_session(request, pk)
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
                    session=session, by=request.user, reason=form.cleaned_data["reason"], now=now
                )
            except Conflict as exc:
                form.add_error(None, str(exc.detail))
            else:
                notice = "cancelled-late" if result.late else "cancelled"
                if result.session.course_id is not None and not result.late:
                    notice = "cancelled-course"
                return _redirect(request, "portal:my-sessions", notice)
    if status == 200:
        status = _form_status(request, form)
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


# --- Calendar files -----------------------------------------------------------------------------


def _event(session: Session, practice: Practice) -> CalendarEvent:
    return CalendarEvent(
        uid=session_uid(session.pk),
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        summary=_("%(type)s at %(practice)s")
        % {"type": session.massage_type.name, "practice": practice.name},
        location=practice.name,
        description=_("With %(therapist)s.") % {"therapist": session.therapist.name},
        sequence=session.schedule_version - 1,
        status=(
            EventStatus.CANCELLED if session.status in FREEING_STATUSES else EventStatus.CONFIRMED
        ),
    )


@patient_page
def session_ics_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _own_session(request, pk)
    day = session.starts_at.astimezone(request.practice.zone).date()
    response = HttpResponse(
        session_ics(_event(session, request.practice)), content_type=ICS_CONTENT_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="session-{day:%Y-%m-%d}.ics"'
    return response


def feed_token(patient: Patient) -> str:
    """The secret in a patient's feed URL. It names the record and the account linked to it,
    so unlinking the account (or linking another) ends every URL handed out before."""
    return signing.dumps({"patient": patient.pk, "user": patient.user_id}, salt=FEED_SALT)


@never_cache
def calendar_feed_view(request: HttpRequest, practice_slug: str, token: str) -> HttpResponse:
    """The personal calendar feed: no login (calendar apps cannot log in), the signed token
    is the key. A bad token is a 404, like a practice or patient that does not exist."""
    practice = get_object_or_404(Practice.objects.select_related("settings"), slug=practice_slug)
    try:
        claims = signing.loads(token, salt=FEED_SALT)
    except signing.BadSignature as exc:
        raise Http404 from exc
    if not isinstance(claims, dict) or not claims.get("user"):
        raise Http404
    patient = get_object_or_404(
        Patient.objects.for_practice(practice),
        pk=claims.get("patient"),
        user_id=claims["user"],
    )
    sessions = (
        Session.objects.for_practice(practice)
        .filter(ACTIVE, patient=patient, starts_at__gte=timezone.now() - FEED_HISTORY)
        .select_related("massage_type", "therapist")
        .order_by("starts_at", "id")
    )
    # No user to ask: the feed speaks the practice's language.
    with translation.override(practice.settings.language):
        body = calendar_feed(
            [_event(session, practice) for session in sessions],
            calendar_name=_("%(practice)s: my sessions") % {"practice": practice.name},
        )
    return HttpResponse(body, content_type=ICS_CONTENT_TYPE)


# --- Invitations --------------------------------------------------------------------------------


class InvitationInvalid(Exception):
    """The link cannot be used: tampered with, expired, spent, or its record changed."""


@dataclass(frozen=True)
class Invitation:
    practice: Practice
    patient: Patient
    email: str


def invitation_token(*, patient: Patient) -> str:
    return signing.dumps(
        {"practice": patient.practice_id, "patient": patient.pk, "email": patient.email.lower()},
        salt=INVITATION_SALT,
        compress=True,
    )


def invitation_read(*, token: str, practice: Practice) -> Invitation:
    try:
        claims = signing.loads(token, salt=INVITATION_SALT, max_age=timedelta(days=INVITATION_DAYS))
    except signing.SignatureExpired as exc:
        raise InvitationInvalid(
            _("This invitation has expired. Please ask the practice for a new one.")
        ) from exc
    except signing.BadSignature as exc:
        raise InvitationInvalid(
            _("This invitation link is not valid. Please check that you copied all of it.")
        ) from exc
    if not isinstance(claims, dict) or claims.get("practice") != practice.pk:
        raise InvitationInvalid(_("This invitation link is not valid."))
    patient = (
        Patient.objects.for_practice(practice)
        .filter(pk=claims.get("patient"), archived=False)
        .first()
    )
    if patient is None or patient.email.lower() != claims.get("email"):
        # The record was archived or its address changed since the link was sent.
        raise InvitationInvalid(
            _("This invitation is no longer valid. Please ask the practice for a new one.")
        )
    if patient.user_id is not None:
        raise InvitationInvalid(
            _("This invitation was already used. Log in with your email and password.")
        )
    return Invitation(practice=practice, patient=patient, email=claims["email"])


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, account: User | None, password: str | None
) -> User:
    """Link the record to `account` (the existing account of the invitation's address, whose
    owner has just given its password) or to a new account with `password`, and make it a
    patient of the practice. The record's row lock makes a second use of the same link, even
    at the same moment, find the record linked and fail."""
    patient = Patient.objects.select_for_update().get(pk=invitation.patient.pk)
    if patient.user_id is not None:
        raise InvitationInvalid(
            _("This invitation was already used. Log in with your email and password.")
        )
    if account is None:
        if password is None:
            raise ValidationError(_("Choose a password."))
        try:
            # A savepoint: an account of this address created meanwhile (another invitation
            # accepted at the same moment) must not be taken over without its password.
            with transaction.atomic():
                user = User.objects.create_user(
                    invitation.email, password, full_name=patient.full_name
                )
        except IntegrityError as exc:
            raise ValidationError(
                _("An account with this address was just created. Please open the link again.")
            ) from exc
    else:
        user = account
        role = (
            Membership.objects.filter(practice=invitation.practice, user=user)
            .values_list("role", flat=True)
            .first()
        )
        # membership_grant would turn a staff member into a patient of their own practice.
        if role is not None and role != Role.PATIENT:
            raise ValidationError(
                _(
                    "This address belongs to a staff account of the practice. Please ask the "
                    "practice to invite another address."
                )
            )
    membership_grant(practice=invitation.practice, user=user, role=Role.PATIENT)
    patient_update(patient=patient, user=user)
    return user


@never_cache
@sensitive_post_parameters("new_password1", "new_password2", "password")
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, practice_slug: str, token: str) -> HttpResponse:
    """The invitation link: choose a password (or confirm the existing one), then the
    account is linked to the record and logged in."""
    practice = get_object_or_404(Practice.objects.select_related("settings"), slug=practice_slug)
    timezone.activate(practice.zone)
    try:
        invitation = invitation_read(token=token, practice=practice)
    except InvitationInvalid as exc:
        return render(
            request,
            "sessions/portal/join.html",
            {"practice": practice, "problem": str(exc)},
            status=400,
        )
    existing = User.objects.filter(email__iexact=invitation.email).first()
    data = request.POST if request.method == "POST" else None
    form: Form
    if existing is not None:
        form = InvitationExistingAccountForm(existing, request, data)
    else:
        # An unsaved user, so the similarity validator compares with the name and address.
        newcomer = User(email=invitation.email, full_name=invitation.patient.full_name)
        form = InvitationNewAccountForm(newcomer, data)
    if data is not None and form.is_valid():
        try:
            user = invitation_accept(
                invitation=invitation,
                account=existing,
                password=None if existing else form.cleaned_data["new_password1"],
            )
        except InvitationInvalid as exc:
            return render(
                request,
                "sessions/portal/join.html",
                {"practice": practice, "problem": str(exc)},
                status=400,
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("patients:portal", practice_slug=practice.slug)
    return render(
        request,
        "sessions/portal/join.html",
        {
            "practice": practice,
            "invitation": invitation,
            "form": form,
            "existing": existing is not None,
        },
        status=_form_status(request, form),
    )


def _send_invitation(*, patient: Patient, practice: Practice, link: str) -> bool:
    """Email the link in the practice's language. False when the mail server refused it:
    the page then shows the link for staff to pass on."""
    practice_settings = practice.settings
    sender = practice_settings.sender_email or settings.DEFAULT_FROM_EMAIL
    if practice_settings.sender_name:
        sender = f"{practice_settings.sender_name} <{sender}>"
    context = {"patient": patient, "practice": practice, "link": link, "days": INVITATION_DAYS}
    with translation.override(practice_settings.language):
        subject = render_to_string("sessions/portal/invitation_subject.txt", context).strip()
        body = render_to_string("sessions/portal/invitation_email.txt", context)
    try:
        send_mail(subject, body, sender, [patient.email])
    except (smtplib.SMTPException, OSError):
        logger.exception("invitation email to patient %s failed", patient.pk)
        return False
    return True


@staff_page
@require_POST
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff invite a patient to the portal: the link is emailed and shown."""
    patient = get_object_or_404(patients_visible_to(membership=request.membership), pk=pk)
    problem = ""
    if patient.archived:
        problem = _("This patient is archived.")
    elif not patient.email:
        problem = _("Add an email address to the record first: the invitation is sent there.")
    elif patient.user_id is not None:
        problem = _("This patient already has a portal account.")
    if problem:
        return render(
            request,
            "sessions/portal/invitation_sent.html",
            {"patient": patient, "problem": problem},
            status=400,
        )
    link = request.build_absolute_uri(
        _url(request, "portal:join", token=invitation_token(patient=patient))
    )
    sent = _send_invitation(patient=patient, practice=request.practice, link=link)
    return render(
        request,
        "sessions/portal/invitation_sent.html",
        {"patient": patient, "link": link, "sent": sent, "days": INVITATION_DAYS},
    )
