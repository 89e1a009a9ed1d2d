"""The front desk's calendar pages: a day or a week per therapist or per room, moving a session
to another free time, cancelling one with a reason and rebooking a cancelled course session.

Like the API these views are thin: free times come from `sessions.availability`, every change
goes through `sessions.booking.sessions` (`session_reschedule`, `session_cancel`,
`session_book`), and a service's ValidationError or Conflict is shown as a message on the
page, never a 500. The
calendar is read in a fixed number of queries: the therapists, the rooms, `calendar_load()`'s
three and one for the sessions, however many sessions the range holds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from practice.calendar import Span, epoch, from_epoch, local_range, year_error
from practice.errors import Conflict
from practice.models import Practice, Room, Therapist
from practice.pages import Notices, errors_to_form
from practice.tenancy import PracticeRequest
from practice.web import staff_page
from sessions.availability import calendar_load, free_stretches
from sessions.booking.interruptions import r13_rebook_options
from sessions.booking.sessions import (
    cancellation_is_late,
    session_book,
    session_cancel,
    session_reschedule,
)
from sessions.models import ACTIVE, Session, SessionStatus
from sessions.selectors import failed_reminders, session_list

NOTICES = Notices(
    {
        "moved": _("The session was moved."),
        "rebooked": _("The session was booked again."),
        "booked": _("The session is booked."),
    }
)
render_page = NOTICES.render


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
        therapist = self.fields["therapist"]
        assert isinstance(therapist, forms.ModelChoiceField)
        therapist.queryset = Therapist.objects.for_practice(practice).filter(active=True)
        therapist.empty_label = _("All therapists")
        room = self.fields["room"]
        assert isinstance(room, forms.ModelChoiceField)
        room.queryset = Room.objects.for_practice(practice).filter(active=True)
        room.empty_label = _("All rooms")

    # `dt.date`: in this class body the name `date` is the form field above.
    def clean_date(self) -> dt.date | None:
        day = self.cleaned_data.get("date")
        if day is not None:
            year_error(day.year)
        return day


class SlotForm(forms.Form):
    """A start time picked among the offered free times. A DateTimeField, not a ChoiceField:
    a time taken since the page was shown must reach the service, whose message says why.
    `dated`: the times span several days (R13's rebooking), so each names its local day too."""

    starts_at = forms.DateTimeField(label=_("New time"), widget=forms.RadioSelect)

    def clean_starts_at(self) -> datetime:
        moment = self.cleaned_data["starts_at"]
        year_error(moment.year)
        return moment

    def __init__(
        self,
        *args: Any,
        slots: list[datetime],
        zone: tzinfo,
        dated: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["starts_at"].widget.choices = [
            (slot.isoformat(), _slot_label(slot.astimezone(zone), dated=dated)) for slot in slots
        ]


def _slot_label(moment: datetime, *, dated: bool) -> str:
    """A time as "10:30", or dated as "Wed 06/03/2026 10:30" in the language's own date format
    (as the session page writes them); times are 24-hour everywhere."""
    time_of_day = moment.strftime("%H:%M")
    if not dated:
        return time_of_day
    return f"{date_format(moment, 'D')} {date_format(moment, 'SHORT_DATE_FORMAT')} {time_of_day}"


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


def _today(practice: Practice) -> date:
    return timezone.localdate(timezone=practice.zone)


def _clip(spans: list[Span], lo: int, hi: int, kind: str) -> list[Block]:
    return [
        Block(kind, from_epoch(max(a, lo)), from_epoch(min(b, hi)))
        for a, b in spans
        if a < hi and b > lo
    ]


def calendar_columns(
    *,
    request: PracticeRequest,
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
    sessions = list(
        session_list(
            membership=request.membership,
            first=first,
            last=last,
            **({"therapist": therapist} if therapist is not None else {}),
            **({"room": room} if room is not None else {}),
        ).select_related("room", "course")
    )
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
                    for a, b in free_stretches(calendar, therapist_id, day)
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
def calendar(request: PracticeRequest) -> HttpResponse:
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
            "failed_reminders": failed_reminders(practice=practice, first=days[0], last=days[-1]),
        },
        status=status,
    )


# --- Moving, cancelling and rebooking -----------------------------------------------------------


def _session(request: PracticeRequest, pk: int) -> Session:
    return get_object_or_404(
        session_list(membership=request.membership).select_related("room", "course"), pk=pk
    )


def _free_starts(practice: Practice, session: Session, day: date, now: datetime) -> list[datetime]:
    """Where this session could move on `day`: its therapist, patient and length, with a
    room that suits its type free (moving keeps its room or picks another), its own current
    time not counted as taken."""
    calendar = calendar_load(
        practice=practice,
        therapist_ids=[session.therapist_id],
        first=day,
        last=day,
        now=now,
        patient_id=session.patient_id,
        exclude_session_id=session.pk,
        massage_type_id=session.massage_type_id,
    )
    return [
        from_epoch(start)
        for start in calendar.free_starts(session.therapist_id, day, day, session.minutes)
    ]


def _to_calendar(request: PracticeRequest, moment: datetime, notice: str) -> HttpResponse:
    day = moment.astimezone(request.practice.zone).date()
    return redirect(_calendar_url(request.practice, date=day.isoformat(), notice=notice))


def conflict_message(exc: Conflict) -> str:
    return str(exc.detail)


@staff_page
@require_http_methods(["GET", "POST"])
def session_move(request: PracticeRequest, pk: int) -> HttpResponse:
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
def session_cancel_view(request: PracticeRequest, pk: int) -> HttpResponse:
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
    request: PracticeRequest, session: Session, form: SlotForm | None, status: int = 200
) -> HttpResponse:
    options = _rebook_options(session, timezone.now())
    offered = SlotForm(slots=options, zone=request.practice.zone, dated=True)
    if form is None:
        form = offered
    else:
        form.fields["starts_at"].widget.choices = offered.fields["starts_at"].widget.choices
    return render_page(
        request,
        "sessions/session_cancelled.html",
        {"session": session, "options": options, "form": form},
        status=status,
    )


@staff_page
def session_cancelled(request: PracticeRequest, pk: int) -> HttpResponse:
    return _cancelled_page(request, _session(request, pk), None)


@staff_page
@require_POST
def session_rebook(request: PracticeRequest, pk: int) -> HttpResponse:
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
