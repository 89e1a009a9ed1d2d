"""The desk's time-grid calendar over JSON (staff only): its columns (therapists or rooms),
what a range holds (sessions; working hours, closures and time off to shade behind them), the
free time to click for a booking, and moving or resizing a session by dragging it.

The grid shows the practice's wall clock (R24) whatever the browser's zone: every time goes
out twice, as the instant (`starts_at`) and as its local reading without an offset
(`starts`), which the page draws as it is; a dragged session comes back as a local reading
and `practice.calendar.local_moment` turns it into the instant. Reads use the services the
rest of the API uses (`session_list`, `calendar_background`, `calendar_load`), moves the
one `session_reschedule` (R19, R23, R10, R13).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from practice.api import DayField, MomentField, ScopedFieldsSerializer, renamed
from practice.calendar import Calendar, Span, from_epoch, local_moment, local_range
from practice.idempotency import Idempotent
from practice.models import Practice, Room, Therapist
from practice.permissions import IsStaff, practice_request
from practice.tenancy import PracticeAPIRequest
from sessions.availability import calendar_background, calendar_load, free_stretches
from sessions.booking.sessions import MIN_SESSION_MINUTES, session_reschedule
from sessions.models import MAX_SESSION_MINUTES, Session, SessionStatus
from sessions.selectors import session_list

# A grid shows a day or a week; a month of days is plenty for any client of it.
MAX_GRID_DAYS = 31
BY_CHOICES = [("therapist", _("Therapist")), ("room", _("Room"))]


class RangeQuerySerializer(ScopedFieldsSerializer):
    from_ = DayField(help_text=_("First day (the practice's local date)."))
    to = DayField(help_text=_("Last day, included."))
    by = serializers.ChoiceField(
        choices=BY_CHOICES, default="therapist", help_text=_("Columns: therapists or rooms.")
    )
    therapist = serializers.PrimaryKeyRelatedField(
        queryset=Therapist.objects.all(), required=False, help_text=_("Only this therapist.")
    )

    def get_fields(self) -> dict:
        return renamed(super().get_fields(), **{"from": "from_"})

    def validate(self, attrs: dict) -> dict:
        if attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": _("The end must not be before the start.")})
        if (attrs["to"] - attrs["from"]).days + 1 > MAX_GRID_DAYS:
            raise serializers.ValidationError(
                {"to": _("Ask for at most %(n)d days at once.") % {"n": MAX_GRID_DAYS}}
            )
        return attrs


class ByQuerySerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=BY_CHOICES, default="therapist")


class ResourceSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("The therapist's or the room's id; 0: no room."))
    name = serializers.CharField()
    colour = serializers.CharField(help_text=_("The therapist's calendar colour; empty for rooms."))


class ResourcesSerializer(serializers.Serializer):
    by = serializers.CharField()
    resources = ResourceSerializer(many=True)


class WallClockField(MomentField):
    """A reading of the practice's wall clock, without an offset (R24); one sent with an
    offset stays that instant."""

    def enforce_timezone(self, value: datetime) -> datetime:
        return value


class LocalSpanSerializer(serializers.Serializer):
    starts = WallClockField(help_text=_("Local wall-clock time, no offset (R24)."))
    ends = WallClockField(help_text=_("Local wall-clock time, no offset (R24)."))


class ShadeSerializer(LocalSpanSerializer):
    kind = serializers.ChoiceField(choices=["working", "closure", "time_off"])
    resource = serializers.IntegerField(
        allow_null=True, help_text=_("The column it belongs to; null: every column.")
    )


class GridSessionSerializer(LocalSpanSerializer):
    id = serializers.IntegerField()
    resource = serializers.IntegerField(help_text=_("The column: therapist, or room (0: none)."))
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    status_label = serializers.CharField()
    patient_name = serializers.CharField()
    therapist = serializers.IntegerField()
    therapist_name = serializers.CharField()
    therapist_colour = serializers.CharField()
    massage_type = serializers.IntegerField()
    massage_type_name = serializers.CharField()
    room_name = serializers.CharField(allow_blank=True)
    screening_needed = serializers.BooleanField()
    movable = serializers.BooleanField(help_text=_("Booked and not begun: may be dragged."))
    url = serializers.CharField(help_text=_("The session's page."))


class EventsSerializer(serializers.Serializer):
    time_zone = serializers.CharField()
    sessions = GridSessionSerializer(many=True)
    shading = ShadeSerializer(many=True)


class FreeSerializer(LocalSpanSerializer):
    resource = serializers.IntegerField(help_text=_("The therapist."))


class FreeTimesSerializer(serializers.Serializer):
    free = FreeSerializer(many=True)


class MoveSerializer(ScopedFieldsSerializer):
    starts = WallClockField(
        help_text=_("The new start as the practice's local wall-clock time, no offset (R24).")
    )
    therapist = serializers.PrimaryKeyRelatedField(
        queryset=Therapist.objects.all(), required=False, help_text=_("Another therapist.")
    )
    minutes = serializers.IntegerField(
        min_value=MIN_SESSION_MINUTES, max_value=MAX_SESSION_MINUTES, required=False
    )


def _reading(moment: datetime, practice: Practice) -> datetime:
    """The practice's wall-clock reading of `moment`, without an offset (R24)."""
    return timezone.make_naive(moment, practice.zone)


def _epoch_reading(seconds: int, practice: Practice) -> datetime:
    return _reading(from_epoch(seconds), practice)


def _active_therapists(practice: Practice, only: Therapist | None) -> QuerySet[Therapist]:
    therapists = Therapist.objects.for_practice(practice).filter(active=True)
    return therapists.filter(pk=only.pk) if only is not None else therapists


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _clipped(spans: list[Span], lo: int, hi: int) -> list[Span]:
    return [(max(a, lo), min(b, hi)) for a, b in spans if a < hi and b > lo]


def grid_shading(calendar: Calendar, practice: Practice, days: list[date]) -> list[dict]:
    """Working hours (per therapist and day, DST-correct from `Calendar.working_spans`),
    closures (every column) and time off of the calendar's therapists, as local readings."""
    lo, hi = (int(moment.timestamp()) for moment in local_range(practice, days[0], days[-1]))
    spans: list[tuple[str, int | None, Span]] = [
        ("closure", None, span) for span in _clipped(calendar.closures, lo, hi)
    ]
    for therapist_id in sorted(set(calendar.hours) | set(calendar.time_off)):
        spans += [
            ("working", therapist_id, span)
            for day in days
            for span in calendar.working_spans(therapist_id, day)
        ]
        spans += [
            ("time_off", therapist_id, span)
            for span in _clipped(calendar.time_off.get(therapist_id, []), lo, hi)
        ]
    return [
        {
            "kind": kind,
            "resource": resource,
            "starts": _epoch_reading(a, practice),
            "ends": _epoch_reading(b, practice),
        }
        for kind, resource, (a, b) in spans
    ]


def grid_session(session: Session, practice: Practice, by: str) -> dict:
    room_id = session.room.pk if session.room is not None else 0
    return {
        "id": session.pk,
        "resource": session.therapist.pk if by == "therapist" else room_id,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "starts": _reading(session.starts_at, practice),
        "ends": _reading(session.ends_at, practice),
        "status": session.status,
        "status_label": session.get_status_display(),
        "patient_name": session.patient.full_name,
        "therapist": session.therapist.pk,
        "therapist_name": session.therapist.name,
        "therapist_colour": session.therapist.colour,
        "massage_type": session.massage_type.pk,
        "massage_type_name": session.massage_type.display_name,
        "room_name": session.room.name if session.room is not None else "",
        "screening_needed": bool(getattr(session, "screening_needed", False)),
        "movable": session.status == SessionStatus.BOOKED and session.starts_at > timezone.now(),
        "url": reverse(
            "sessions:session-detail", kwargs={"practice_slug": practice.slug, "pk": session.pk}
        ),
    }


class CalendarResourcesView(GenericAPIView):
    """The grid's columns: the active therapists with their colours, or the active rooms
    (and "No room", id 0, for sessions without one)."""

    permission_classes = [IsStaff]
    serializer_class = ResourcesSerializer

    @extend_schema(parameters=[ByQuerySerializer], responses=ResourcesSerializer)
    def get(self, request: PracticeAPIRequest) -> Response:
        query = ByQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        by = query.validated_data["by"]
        practice = request.practice
        if by == "therapist":
            resources = [
                {"id": t.pk, "name": t.name, "colour": t.colour}
                for t in _active_therapists(practice, None)
            ]
        else:
            rooms = Room.objects.for_practice(practice).filter(active=True)
            resources = [{"id": r.pk, "name": r.name, "colour": ""} for r in rooms]
            resources.append({"id": 0, "name": str(_("No room")), "colour": ""})
        return Response(ResourcesSerializer({"by": by, "resources": resources}).data)


class CalendarEventsView(GenericAPIView):
    """The sessions of a range with their status, patient, type and therapist's colour, and
    what to shade behind them: working hours, closures and time off (R23). Three queries:
    the sessions, the working hours, the closures with the time off."""

    permission_classes = [IsStaff]
    serializer_class = EventsSerializer

    @extend_schema(parameters=[RangeQuerySerializer], responses=EventsSerializer)
    def get(self, request: PracticeAPIRequest) -> Response:
        query = RangeQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        practice, by, only = request.practice, data["by"], data.get("therapist")
        first, last = data["from"], data["to"]
        sessions = session_list(
            membership=request.membership, first=first, last=last, therapist=only
        ).order_by("starts_at", "id")
        rows = [grid_session(session, practice, by) for session in sessions]
        # Working hours and time off belong to therapists: the room view shades closures
        # only. None: the active therapists, read inside the working-hours query.
        wanted: list[int] | None = [] if by == "room" else ([only.pk] if only else None)
        calendar = calendar_background(
            practice=practice, therapist_ids=wanted, first=first, last=last
        )
        shading = grid_shading(calendar, practice, _days(first, last))
        body = {"time_zone": practice.settings.time_zone, "sessions": rows, "shading": shading}
        return Response(EventsSerializer(body).data)


class CalendarFreeView(GenericAPIView):
    """Free time per therapist (R23, R19, the buffer): stretches whose every grid step could
    start a session of one grid step, from the same computation as availability. Display
    only: booking checks the real length again."""

    permission_classes = [IsStaff]
    serializer_class = FreeTimesSerializer

    @extend_schema(parameters=[RangeQuerySerializer], responses=FreeTimesSerializer)
    def get(self, request: PracticeAPIRequest) -> Response:
        query = RangeQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        practice = request.practice
        first, last = data["from"], data["to"]
        ids = list(_active_therapists(practice, data.get("therapist")).values_list("pk", flat=True))
        calendar = calendar_load(
            practice=practice, therapist_ids=ids, first=first, last=last, now=timezone.now()
        )
        free = [
            {
                "resource": therapist_id,
                "starts": _epoch_reading(a, practice),
                "ends": _epoch_reading(b, practice),
            }
            for therapist_id in ids
            for day in _days(first, last)
            for a, b in free_stretches(calendar, therapist_id, day)
        ]
        return Response(FreeTimesSerializer({"free": free}).data)


class CalendarMoveView(Idempotent, GenericAPIView):
    """Move a session to another time, another therapist, or give it another length (drag
    and drop, dragging its end) through `session_reschedule`: a refused move answers 400 or
    409 with the reason and changes nothing."""

    permission_classes = [IsStaff]
    serializer_class = GridSessionSerializer

    @extend_schema(
        request=MoveSerializer,
        responses={
            200: GridSessionSerializer,
            409: OpenApiResponse(description="The time is taken (R19); `detail` says by what."),
        },
    )
    def post(self, request: PracticeAPIRequest, pk: int) -> Response:
        practice = practice_request(request).practice
        session = get_object_or_404(session_list(membership=request.membership), pk=pk)
        # The scoped queryset guarantees it; reusing the request's saves its settings a query.
        session.practice = practice
        given = MoveSerializer(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        data = given.validated_data
        moved = session_reschedule(
            session=session,
            starts_at=local_moment(practice, data["starts"]),
            therapist=data.get("therapist"),
            minutes=data.get("minutes"),
            by=request.user,
        )
        by = "room" if request.query_params.get("by") == "room" else "therapist"
        return Response(GridSessionSerializer(grid_session(moved, practice, by)).data)
