"""The front desk's calendar pages: a day or a week per therapist or per room, moving a session
to another free time, cancelling one with a reason and rebooking a cancelled course session.

Like the API these views are thin: free times come from `sessions.availability`, every change
goes through `sessions.services` (`session_reschedule`, `session_cancel`, `session_book`), and a
service's ValidationError or Conflict is shown as a message on the page, never a 500. The
calendar is read in a fixed number of queries: the therapists, the rooms, `calendar_load()`'s
three and one for the sessions, however many sessions the range holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.shortcuts import render as django_render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from patients.forms import QuestionsForm, errors_to_form
from patients.models import Contraindication
from patients.views import NOTICES as PATIENT_NOTICES
from practice.api_errors import Conflict
from practice.models import Practice, Room, Therapist
from practice.web import staff_page
from sessions.availability import (
    Calendar,
    Span,
    calendar_load,
    epoch,
    from_epoch,
    local_range,
)
from sessions.models import ACTIVE, CheckIn, Session, SessionRecord, SessionStatus
from sessions.protocol import SessionProtocol
from sessions.selectors import session_list
from sessions.services import (
    cancellation_is_late,
    r13_rebook_options,
    session_book,
    session_cancel,
    session_reschedule,
)
from sessions.session_day import (
    CheckInAnswer,
    CheckInResult,
    local_day,
    may_run_session,
    same_day_questions,
    session_check_in,
    session_clinical,
    session_complete,
    session_no_show,
    session_protocol_for,
    session_start,
)
from sessions.techniques import (
    ALL_GROUPS,
    WORKING_ZONES_BOTTOM_UP,
    BackZone,
    Direction,
    Pressure,
    Technique,
    TechniqueGroup,
)

# What a page says after a redirect ("?notice=moved"): a fixed list, so no text from the URL
# is ever shown (as on the patients pages, whose notices these extend).
NOTICES = {
    **PATIENT_NOTICES,
    "moved": _("The session was moved."),
    "rebooked": _("The session was booked again."),
    "course-booked": _("The course is booked."),
}

# A date typed into the URL outside these years is refused with a message rather than
# overflowing the date arithmetic (date.max + 1 day) into a 500.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def year_error(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(
            _("Choose a date between %(first)d and %(last)d.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )


class CalendarForm(forms.Form):
    """What the calendar shows. Every value is optional: a bad one is reported and ignored."""

    view = forms.ChoiceField(
        label=_("View"), choices=[("day", _("Day")), ("week", _("Week"))], required=False
    )
    date = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    by = forms.ChoiceField(
        label=_("Show by"),
        choices=[("therapist", _("Therapist")), ("room", _("Room"))],
        required=False,
    )
    therapist = forms.ModelChoiceField(
        label=_("Therapist"), queryset=Therapist.objects.none(), required=False
    )
    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none(), required=False)

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["therapist"].queryset = Therapist.objects.for_practice(practice).filter(
            active=True
        )
        self.fields["therapist"].empty_label = _("All therapists")
        self.fields["room"].queryset = Room.objects.for_practice(practice).filter(active=True)
        self.fields["room"].empty_label = _("All rooms")

    def clean_date(self) -> date | None:
        day = self.cleaned_data.get("date")
        if day is not None:
            year_error(day.year)
        return day


class SlotForm(forms.Form):
    """A start time picked among the offered free times. A DateTimeField, not a ChoiceField:
    a time taken since the page was shown must reach the service, whose message says why."""

    starts_at = forms.DateTimeField(label=_("New time"), widget=forms.RadioSelect)

    def clean_starts_at(self) -> datetime:
        moment = self.cleaned_data["starts_at"]
        year_error(moment.year)
        return moment

    def __init__(self, *args: Any, slots: list[datetime], zone: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["starts_at"].widget.choices = [
            (slot.isoformat(), slot.astimezone(zone).strftime("%H:%M")) for slot in slots
        ]


class DayForm(forms.Form):
    day = forms.DateField(
        label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean_day(self) -> date:
        day = self.cleaned_data["day"]
        year_error(day.year)
        return day


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- Reading the calendar ---------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One line of a day: a session, a closure, time off or free time, with its own text so
    nothing is told by colour alone."""

    kind: str  # "session", "closure", "time_off" or "free"
    starts_at: datetime
    ends_at: datetime
    session: Session | None = None


@dataclass
class DayCell:
    day: date
    working: bool
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Column:
    """A therapist's or a room's days."""

    key: str
    name: str
    colour: str
    days: list[DayCell]


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    notice = NOTICES.get(request.GET.get("notice", ""))
    return django_render(request, template, {**context, "notice": notice}, status=status)


def _today(practice: Practice) -> date:
    return timezone.localdate(timezone=practice.zone)


def _clip(spans: list[Span], lo: int, hi: int, kind: str) -> list[Block]:
    return [
        Block(kind, from_epoch(max(a, lo)), from_epoch(min(b, hi)))
        for a, b in spans
        if a < hi and b > lo
    ]


def free_time(calendar: Calendar, therapist_id: int, day: date) -> list[Span]:
    """The day's free time as stretches: the free starts of a one-grid-step session (from
    `Calendar.free_starts`, so buffers, closures and the horizon count), consecutive ones
    joined. Display only: booking asks availability again for the real length."""
    step = calendar.grid_minutes * 60
    stretches: list[list[int]] = []
    for start in calendar.free_starts(therapist_id, day, day, calendar.grid_minutes):
        if stretches and start == stretches[-1][1]:
            stretches[-1][1] = start + step
        else:
            stretches.append([start, start + step])
    return [(a, b) for a, b in stretches]


def calendar_columns(
    *,
    request: HttpRequest,
    days: list[date],
    by: str,
    therapist: Therapist | None,
    room: Room | None,
) -> list[Column]:
    practice = request.practice
    first, last = days[0], days[-1]
    therapists = list(Therapist.objects.for_practice(practice).filter(active=True))
    if therapist is not None:
        therapists = [therapist]
    sessions = session_list(
        membership=request.membership,
        first=first,
        last=last,
        **({"therapist": therapist} if therapist is not None else {}),
        **({"room": room} if room is not None else {}),
    ).select_related("room", "course")
    sessions = list(sessions)
    calendar = calendar_load(
        practice=practice,
        therapist_ids=[t.pk for t in therapists],
        first=first,
        last=last,
        now=timezone.now(),
    )
    zone = practice.zone
    by_key: dict[tuple[str, date], list[Block]] = defaultdict(list)
    for session in sessions:
        key = str(session.therapist_id) if by == "therapist" else str(session.room_id or "")
        by_key[(key, session.starts_at.astimezone(zone).date())].append(
            Block("session", session.starts_at, session.ends_at, session)
        )

    def cells(key: str, therapist_id: int | None) -> list[DayCell]:
        out = []
        for day in days:
            lo, hi = (epoch(moment) for moment in local_range(practice, day, day))
            blocks = [*by_key.get((key, day), []), *_clip(calendar.closures, lo, hi, "closure")]
            working = True
            if therapist_id is not None:
                working = bool(calendar.working_spans(therapist_id, day))
                blocks += _clip(calendar.time_off.get(therapist_id, []), lo, hi, "time_off")
                blocks += [
                    Block("free", from_epoch(a), from_epoch(b))
                    for a, b in free_time(calendar, therapist_id, day)
                ]
            blocks.sort(key=lambda block: (block.starts_at, block.kind != "session"))
            out.append(DayCell(day, working, blocks))
        return out

    if by == "therapist":
        known = {t.pk for t in therapists}
        # A session of a therapist who has left still shows, in a column of its own.
        extra = {s.therapist.pk: s.therapist for s in sessions if s.therapist_id not in known}
        return [
            Column(str(t.pk), t.name, t.colour, cells(str(t.pk), t.pk))
            for t in [*therapists, *extra.values()]
        ]
    rooms = list(Room.objects.for_practice(practice).filter(active=True))
    if room is not None:
        rooms = [room]
    known_rooms = {r.pk for r in rooms}
    rooms += list(
        {s.room.pk: s.room for s in sessions if s.room and s.room.pk not in known_rooms}.values()
    )
    columns = [Column(str(r.pk), r.name, "", cells(str(r.pk), None)) for r in rooms]
    if room is None and any(s.room_id is None for s in sessions):
        columns.append(Column("", str(_("No room")), "", cells("", None)))
    return columns


def _calendar_url(practice: Practice, **query: object) -> str:
    target = reverse("sessions:calendar", kwargs={"practice_slug": practice.slug})
    kept = {name: value for name, value in query.items() if value not in (None, "")}
    return f"{target}?{urlencode(kept)}" if kept else target


@staff_page
def calendar(request: HttpRequest) -> HttpResponse:
    practice = request.practice
    form = CalendarForm(request.GET or None, practice=practice)
    form.is_valid()
    # The fields that were valid still count; a bad one falls back to its default.
    data: dict[str, Any] = getattr(form, "cleaned_data", {})
    view = data.get("view") or "day"
    by = data.get("by") or "therapist"
    day = data.get("date") or _today(practice)
    therapist, room = data.get("therapist"), data.get("room")
    if view == "week":
        first = day - timedelta(days=day.weekday())
        days = [first + timedelta(days=n) for n in range(7)]
        step = timedelta(days=7)
    else:
        days, step = [day], timedelta(days=1)
    keep = {
        "view": view,
        "by": by,
        "therapist": therapist.pk if therapist else None,
        "room": room.pk if room else None,
    }
    columns = calendar_columns(request=request, days=days, by=by, therapist=therapist, room=room)
    status = 400 if form.is_bound and form.errors and not request.headers.get("HX-Request") else 200
    return render_page(
        request,
        "sessions/calendar.html",
        {
            "form": form,
            "view": view,
            "by": by,
            "days": days,
            "columns": columns,
            "previous_url": _calendar_url(practice, date=(day - step).isoformat(), **keep),
            "next_url": _calendar_url(practice, date=(day + step).isoformat(), **keep),
            "today_url": _calendar_url(practice, **keep),
            "day_url": _calendar_url(practice, **{**keep, "view": "day"}),
            "statuses": SessionStatus.choices,
            "buffer_minutes": practice.settings.buffer_minutes,
        },
        status=status,
    )


# --- Moving, cancelling and rebooking -----------------------------------------------------------


def _session(request: HttpRequest, pk: int) -> Session:
    return get_object_or_404(
        session_list(membership=request.membership).select_related("room", "course"), pk=pk
    )


def _free_starts(practice: Practice, session: Session, day: date, now: datetime) -> list[datetime]:
    """Where this session could move on `day`: its therapist, room, patient and length, its
    own current time not counted as taken."""
    calendar = calendar_load(
        practice=practice,
        therapist_ids=[session.therapist_id],
        first=day,
        last=day,
        now=now,
        room=session.room,
        patient_id=session.patient_id,
        exclude_session_id=session.pk,
    )
    return [
        from_epoch(start)
        for start in calendar.free_starts(session.therapist_id, day, day, session.minutes)
    ]


def _to_calendar(request: HttpRequest, moment: datetime, notice: str) -> HttpResponse:
    day = moment.astimezone(request.practice.zone).date()
    return redirect(_calendar_url(request.practice, date=day.isoformat(), notice=notice))


def conflict_message(exc: Conflict) -> str:
    return str(exc.detail)


@staff_page
@require_http_methods(["GET", "POST"])
def session_move(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    practice = request.practice
    now = timezone.now()
    today = _today(practice)
    source = request.POST if request.method == "POST" else request.GET
    day_form = DayForm(source if "day" in source else None)
    day = day_form.cleaned_data["day"] if day_form.is_valid() else None
    if day is None:
        day = max(session.starts_at.astimezone(practice.zone).date(), today)
    movable = session.status == SessionStatus.BOOKED
    slots = _free_starts(practice, session, day, now) if movable else []
    form = SlotForm(
        request.POST if request.method == "POST" else None, slots=slots, zone=practice.zone
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                moved = session_reschedule(
                    session=session, starts_at=form.cleaned_data["starts_at"], by=request.user
                )
            except Conflict as exc:
                form.add_error(None, conflict_message(exc))
                status = 409
            except ValidationError as exc:
                errors_to_form(form, exc)
                status = 400
            else:
                return _to_calendar(request, moved.starts_at, "moved")
        else:
            status = 400
    return render_page(
        request,
        "sessions/session_move.html",
        {
            "session": session,
            "movable": movable,
            "day": day,
            # A bad day typed in is shown with its error; otherwise the day the slots are for.
            "day_form": day_form if day_form.errors else DayForm(initial={"day": day}),
            "form": form,
            "slots": slots,
            "previous_day": (day - timedelta(days=1)).isoformat() if day > today else None,
            "next_day": (day + timedelta(days=1)).isoformat(),
        },
        status=status,
    )


@staff_page
@require_http_methods(["GET", "POST"])
def session_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    form = CancelForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                session_cancel(session=session, by=request.user, reason=form.cleaned_data["reason"])
            except Conflict as exc:
                form.add_error(None, conflict_message(exc))
                status = 409
            else:
                target = reverse(
                    "sessions:session-cancelled",
                    kwargs={"practice_slug": request.practice.slug, "pk": session.pk},
                )
                return redirect(target)
        else:
            status = 400
    return render_page(
        request,
        "sessions/session_cancel.html",
        {
            "session": session,
            "form": form,
            "cancellable": session.status in (SessionStatus.BOOKED, SessionStatus.CHECKED_IN),
            "notice_hours": request.practice.settings.cancellation_notice_hours,
            "late": cancellation_is_late(session, timezone.now()),
        },
        status=status,
    )


def _rebook_options(session: Session, now: datetime) -> list[datetime]:
    """R13's times to rebook a cancelled course session, unless its place is held again."""
    if session.course is None or session.status != SessionStatus.CANCELLED:
        return []
    if session.course.sessions.filter(ACTIVE, sequence=session.sequence).exists():
        return []
    return list(r13_rebook_options(session=session, course=session.course, now=now))


def _cancelled_page(
    request: HttpRequest, session: Session, form: SlotForm | None, status: int = 200
) -> HttpResponse:
    options = _rebook_options(session, timezone.now())
    if form is None:
        form = SlotForm(slots=options, zone=request.practice.zone)
    else:
        form.fields["starts_at"].widget.choices = (
            SlotForm(slots=options, zone=request.practice.zone).fields["starts_at"].widget.choices
        )
    return render_page(
        request,
        "sessions/session_cancelled.html",
        {"session": session, "options": options, "form": form},
        status=status,
    )


@staff_page
def session_cancelled(request: HttpRequest, pk: int) -> HttpResponse:
    return _cancelled_page(request, _session(request, pk), None)


@staff_page
@require_POST
def session_rebook(request: HttpRequest, pk: int) -> HttpResponse:
    """R13: book the cancelled course session's place again at one of the offered times."""
    session = _session(request, pk)
    form = SlotForm(request.POST, slots=[], zone=request.practice.zone)
    if session.course is None:
        form.add_error(None, _("Only a course session is rebooked from here."))
        return _cancelled_page(request, session, form, status=400)
    if not form.is_valid():
        return _cancelled_page(request, session, form, status=400)
    try:
        booked = session_book(
            practice=request.practice,
            patient=session.patient,
            therapist=session.therapist,
            massage_type=session.massage_type,
            starts_at=form.cleaned_data["starts_at"],
            minutes=session.minutes,
            room=session.room,
            course=session.course,
            sequence=session.sequence,
            booked_by=request.user,
        )
    except Conflict as exc:
        form.add_error(None, conflict_message(exc))
        return _cancelled_page(request, session, form, status=409)
    except ValidationError as exc:
        errors_to_form(form, exc)
        return _cancelled_page(request, session, form, status=400)
    return _to_calendar(request, booked.starts_at, "rebooked")


# --- The session page: check-in, protocol, record ------------------------------------------------
#
# One page per session whose body follows its status. Every decision is the session-day
# services' (`sessions.session_day`), the same ones the API calls: the forms below check shapes
# only (a number is a number, a code is one of the catalogue's), and a service's ValidationError
# is put back next to the field it names, with the rule id its message carries.

# What the session page says after a redirect; a fixed list, like NOTICES above.
SESSION_NOTICES = {
    "checked-in": _("The patient is checked in."),
    "started": _("The session has started."),
    "completed": _("The session is recorded and completed."),
    "no-show": _("The session is marked as a no-show."),
}
# Numbered technique rows on the record form: R15's longest plan (stroking, four groups of
# two or three techniques, stroking) fits, and an empty row is simply skipped.
TECHNIQUE_ROWS = 10


class CheckInForm(QuestionsForm):
    """The same-day questions the service asks (yes/no, a zone for a local item) and the
    vitals. Whether an answer needs a zone, and R7's blood pressure, are the service's call."""

    item_notes = False

    def __init__(
        self, *args: Any, questions: list[Contraindication], hypertensive: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, items=questions, **kwargs)
        if hypertensive:
            for name in ("systolic", "diastolic"):
                self.fields[name].help_text = _("R7: the patient is hypertensive; required.")

    def answers(self) -> list[CheckInAnswer]:
        return [CheckInAnswer(item.code, *self.answered(item)) for item in self.items]


def _ordinal_label(n: int) -> str:
    return str(_("Technique %(n)d") % {"n": n})


class RecordForm(forms.Form):
    """The session record (R20). Every field is optional here: what is missing or wrong is
    reported by `sessions.records` through `session_complete`, whose messages name the rule
    (R15, R17, R8, R3, R18, R7), so the form never says it a second, different way."""

    zones = forms.MultipleChoiceField(
        label=_("Zones worked"),
        choices=BackZone.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    pressure = forms.ChoiceField(
        label=_("Pressure"), choices=[("", _("— choose —")), *Pressure.choices], required=False
    )
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices, required=False)
    systolic_after = forms.IntegerField(label=_("Systolic after (mmHg)"), required=False)
    diastolic_after = forms.IntegerField(label=_("Diastolic after (mmHg)"), required=False)
    pain_before = forms.IntegerField(
        label=_("Pain before (0–10)"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": 10, "inputmode": "numeric"}),
    )
    pain_after = forms.IntegerField(
        label=_("Pain after (0–10)"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": 10, "inputmode": "numeric"}),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, TECHNIQUE_ROWS + 1):
            self.fields[f"technique_{n}"] = forms.ChoiceField(
                label=_ordinal_label(n),
                choices=[("", _("— none —")), *Technique.choices],
                required=False,
            )
        # Errors the service gives for the techniques as a whole (R15, R8, R20): shown above
        # the numbered rows, not on one row.
        self.technique_errors: list[str] = []
        # R7's "before" reading is the check-in's, shown read-only on this form.
        self.before_errors: list[str] = []

    @property
    def technique_rows(self) -> list[forms.BoundField]:
        return [self[f"technique_{n}"] for n in range(1, TECHNIQUE_ROWS + 1)]

    def techniques(self) -> list[str]:
        rows = (self.cleaned_data.get(f"technique_{n}") for n in range(1, TECHNIQUE_ROWS + 1))
        return [code for code in rows if code]

    def place_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            messages = [message for error in errors for message in error.messages]
            if name == "techniques":
                self.technique_errors.extend(messages)
            elif name in ("systolic_before", "diastolic_before"):
                self.before_errors.extend(messages)
            else:
                self.add_error(name if name in self.fields else None, messages)


@dataclass(frozen=True)
class ChartZone:
    """One zone of the body chart: its checkbox, and why it cannot be chosen, if so."""

    code: str
    label: str
    forbidden: bool
    reasons: tuple[str, ...]
    checked: bool


def chart_zones(protocol: SessionProtocol, chosen: Iterable[str]) -> list[ChartZone]:
    """The body chart's zones from the planned protocol's avoid list, so the chart shows
    exactly what the service will refuse: an area that is not a working zone (R17: the
    spine, kidneys, heart, lymph nodes) or one a rule closes to all work (R3: the
    screening's or today's check-in zones). A zone only capped (R17: no maximum force
    between the shoulder blades) stays choosable, with its note."""
    chosen_set = set(chosen)
    reasons: dict[str, list[str]] = defaultdict(list)
    closed: set[str] = set()
    for avoid in protocol.avoid:
        reasons[avoid.zone].append(avoid.message)
        if avoid.groups == ALL_GROUPS:
            closed.add(avoid.zone)
    working = set(WORKING_ZONES_BOTTOM_UP)
    return [
        ChartZone(
            code=zone.value,
            label=str(zone.label),
            forbidden=zone not in working or zone in closed,
            reasons=tuple(reasons.get(zone, ())),
            checked=zone.value in chosen_set,
        )
        for zone in BackZone
    ]


def _clinical_session(request: HttpRequest, pk: int) -> Session:
    """The session, if this user may start or complete it (`may_run_session`, as the API)."""
    session = _detail_session(request, pk)
    if not may_run_session(membership=request.membership, session=session):
        raise PermissionDenied(_("Only the session's therapist or a manager may do this."))
    return session


def _detail_session(request: HttpRequest, pk: int) -> Session:
    return get_object_or_404(
        session_list(membership=request.membership).select_related(
            "room", "course", "course__screening", "check_in", "record", "record__recorded_by"
        ),
        pk=pk,
    )


def _record_of(session: Session) -> SessionRecord | None:
    try:
        return session.record
    except SessionRecord.DoesNotExist:
        return None


def _check_in_row(session: Session) -> CheckIn | None:
    try:
        return session.check_in
    except CheckIn.DoesNotExist:
        return None


def _planned_record(protocol: SessionProtocol) -> dict[str, Any]:
    """The record form's first values from the plan: its techniques in order (one per step,
    a group split by zone caps counted once) and its direction (R16, or R8 top-down); the
    therapist changes what was done differently. Zones and pressure are left to choose."""
    initial: dict[str, Any] = {"direction": protocol.direction.value}
    techniques: list[str] = []
    previous: TechniqueGroup | None = None
    for step in protocol.steps:
        # R15's opening and closing stroking are both kept; a split step is one technique.
        if step.group != previous or step.group == TechniqueGroup.STROKING:
            techniques.append(step.techniques[0].value)
        previous = step.group
    for n, code in enumerate(techniques[:TECHNIQUE_ROWS], start=1):
        initial[f"technique_{n}"] = code
    return initial


def _session_page(
    request: HttpRequest,
    session: Session,
    *,
    check_in_form: CheckInForm | None = None,
    record_form: RecordForm | None = None,
    errors: list[str] | None = None,
    result: CheckInResult | None = None,
    status: int = 200,
) -> HttpResponse:
    practice = request.practice
    protocol = session_protocol_for(session)
    hypertensive = session_clinical(session, local_day(session, session.starts_at)).hypertensive
    context: dict[str, Any] = {
        "session": session,
        "on_session_page": True,
        "hypertensive": hypertensive,
        "protocol": protocol,
        "check_in": _check_in_row(session),
        "record": _record_of(session),
        "errors": errors or [],
        "result": result,
        "notice": SESSION_NOTICES.get(request.GET.get("notice", "")),
        "may_run": may_run_session(membership=request.membership, session=session),
        # The service refuses a no-show before the session's time; the button waits for it.
        "may_no_show": session.status == SessionStatus.BOOKED
        and timezone.now() >= session.starts_at,
    }
    record = context["record"]
    if record is not None:
        # Stored as codes; shown by their catalogue labels (a code no longer in it as is).
        techniques, zones = dict(Technique.choices), dict(BackZone.choices)
        context["record_techniques"] = [techniques.get(t, t) for t in record.techniques]
        context["record_zones"] = [zones.get(z, z) for z in record.zones]
        context["chart"] = chart_zones(protocol, record.zones)
    if session.status == SessionStatus.BOOKED:
        context["check_in_form"] = check_in_form or CheckInForm(
            questions=same_day_questions(practice.pk), hypertensive=hypertensive
        )
    if session.status == SessionStatus.IN_PROGRESS:
        form = record_form or RecordForm(initial=_planned_record(protocol))
        chosen = form.data.getlist("zones") if form.is_bound else []
        context["record_form"] = form
        context["chart"] = chart_zones(protocol, chosen)
    return django_render(request, "sessions/session_detail.html", context, status=status)


def _to_session(request: HttpRequest, session: Session, notice: str) -> HttpResponse:
    target = reverse(
        "sessions:session-detail",
        kwargs={"practice_slug": request.practice.slug, "pk": session.pk},
    )
    return redirect(f"{target}?{urlencode({'notice': notice})}")


@staff_page
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _session_page(request, _detail_session(request, pk))


@staff_page
@require_POST
def session_check_in_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _detail_session(request, pk)
    practice = request.practice
    clinical = session_clinical(session, local_day(session, session.starts_at))
    form = CheckInForm(
        request.POST,
        questions=same_day_questions(practice.pk),
        hypertensive=clinical.hypertensive,
    )
    if not form.is_valid():
        return _session_page(request, session, check_in_form=form, status=400)
    try:
        result = session_check_in(
            session=session,
            answers=form.answers(),
            temperature=form.cleaned_data["temperature"],
            systolic=form.cleaned_data["systolic"],
            diastolic=form.cleaned_data["diastolic"],
            pulse=form.cleaned_data["pulse"],
            by=request.user,
        )
    except Conflict as exc:
        # Shown above the page, not on the form: the session may be past check-in by now.
        return _session_page(
            request,
            _detail_session(request, pk),
            check_in_form=form,
            errors=[conflict_message(exc)],
            status=409,
        )
    except ValidationError as exc:
        # The answers' errors ("wound: choose the zone") are about the questions as a whole.
        errors_to_form(form, exc)
        return _session_page(request, session, check_in_form=form, status=400)
    if result.blocked:
        # Shown at once rather than after a redirect: the rebooking times are the service's
        # answer to this check-in.
        return _session_page(request, _detail_session(request, pk), result=result)
    return _to_session(request, session, "checked-in")


@staff_page
@require_POST
def session_start_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _clinical_session(request, pk)
    try:
        session_start(session=session, by=request.user)
    except Conflict as exc:
        return _session_page(
            request, _detail_session(request, pk), errors=[conflict_message(exc)], status=409
        )
    except ValidationError as exc:
        return _session_page(
            request, _detail_session(request, pk), errors=list(exc.messages), status=400
        )
    return _to_session(request, session, "started")


@staff_page
@require_POST
def session_complete_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _clinical_session(request, pk)
    form = RecordForm(request.POST)
    if not form.is_valid():
        return _session_page(request, _detail_session(request, pk), record_form=form, status=400)
    data = form.cleaned_data
    try:
        session_complete(
            session=session,
            techniques=form.techniques(),
            zones=data["zones"],
            pressure=data["pressure"],
            direction=data["direction"] or None,
            systolic_after=data["systolic_after"],
            diastolic_after=data["diastolic_after"],
            pain_before=data["pain_before"],
            pain_after=data["pain_after"],
            notes=data["notes"],
            by=request.user,
        )
    except Conflict as exc:
        return _session_page(
            request,
            _detail_session(request, pk),
            record_form=form,
            errors=[conflict_message(exc)],
            status=409,
        )
    except ValidationError as exc:
        form.place_errors(exc)
        return _session_page(request, _detail_session(request, pk), record_form=form, status=400)
    return _to_session(request, session, "completed")


@staff_page
@require_POST
def session_no_show_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _detail_session(request, pk)
    try:
        session_no_show(session=session, by=request.user)
    except Conflict as exc:
        return _session_page(request, session, errors=[conflict_message(exc)], status=409)
    return _to_session(request, session, "no-show")
