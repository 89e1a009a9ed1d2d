"""Utilisation: the hours booked against the hours that could have been booked, per therapist
and per room (R23, R24).

Available hours are the therapist's working hours on each local day of the period minus
closures and their time off, from the practice's calendar (`practice.calendar.Calendar`,
loaded by `sessions.availability.calendar_load` in one query), so a day of a
daylight-saving change counts the hours that really passed. A room has no hours of its own:
it is available while any therapist works, outside closures. Booked hours are the sessions
that held their time (not cancelled, no no-show) starting in the period.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import DurationField, ExpressionWrapper, F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from practice.calendar import Span, merge
from practice.models import Practice, Room, Therapist
from reports.period import Period
from reports.registry import ChartSpec, Column, Kind, Report, Table, register
from reports.sql import hours, ratio
from sessions.availability import calendar_load
from sessions.models import ACTIVE, Session

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

COLUMNS = (
    Column("booked_hours", _("Booked hours"), Kind.HOURS),
    Column("available_hours", _("Available hours"), Kind.HOURS),
    Column("utilisation", _("Utilisation"), Kind.RATIO),
)


def _chart(category: str, x_label: StrOrPromise) -> ChartSpec:
    return ChartSpec(
        category=(category,),
        series=("booked_hours", "available_hours"),
        x_label=x_label,
        y_label=_("Hours"),
    )


def _booked_seconds(practice: Practice, period: Period, by: str) -> dict[int | None, float]:
    start, end = period.instants(practice)
    length = ExpressionWrapper(F("ends_at") - F("starts_at"), output_field=DurationField())
    return {
        key: booked.total_seconds()
        for key, booked in Session.objects.for_practice(practice)
        .filter(ACTIVE, starts_at__gte=start, starts_at__lt=end)
        .values(by)
        .annotate(booked=Sum(length))
        .values_list(by, "booked")
    }


def _span_seconds(spans: list[Span]) -> int:
    return sum(end - start for start, end in spans)


@register
class Utilisation(Report):
    slug = "utilisation"
    title = _("Utilisation")
    description = _(
        "Booked hours against available hours (working hours minus closures and time off), "
        "per therapist and per room."
    )
    order = 10
    table_keys = ("therapists", "rooms")

    def tables(self, *, practice: Practice, period: Period) -> list[Table]:
        therapists = list(Therapist.objects.for_practice(practice).order_by("name", "id"))
        rooms = list(Room.objects.for_practice(practice).order_by("name", "id"))
        calendar = calendar_load(
            practice=practice,
            therapist_ids=[therapist.pk for therapist in therapists],
            first=period.first,
            last=period.last,
            now=timezone.now(),
        )
        available: dict[int, int] = {}
        room_seconds = 0
        for day in period.days():
            open_today = {t.pk: calendar.open_spans(t.pk, day) for t in therapists}
            for therapist_id, spans in open_today.items():
                available[therapist_id] = available.get(therapist_id, 0) + _span_seconds(spans)
            room_seconds += _span_seconds(merge(s for spans in open_today.values() for s in spans))
        by_therapist = _booked_seconds(practice, period, "therapist_id")
        by_room = _booked_seconds(practice, period, "room_id")

        def row(key: int, name: str, available_seconds: float, booked: float) -> tuple:
            return (
                key,
                name,
                hours(booked),
                hours(available_seconds),
                ratio(booked, available_seconds),
            )

        return [
            Table(
                key="therapists",
                title=_("Utilisation per therapist"),
                columns=(
                    Column("therapist_id", _("Therapist id")),
                    Column("therapist", _("Therapist"), Kind.TEXT),
                    *COLUMNS,
                ),
                rows=[
                    row(t.pk, t.name, available.get(t.pk, 0), by_therapist.get(t.pk, 0))
                    for t in therapists
                ],
                chart=_chart("therapist", _("Therapist")),
            ),
            Table(
                key="rooms",
                title=_("Utilisation per room"),
                columns=(
                    Column("room_id", _("Room id")),
                    Column("room", _("Room"), Kind.TEXT),
                    *COLUMNS,
                ),
                rows=[
                    row(room.pk, room.name, room_seconds, by_room.get(room.pk, 0)) for room in rooms
                ],
                chart=_chart("room", _("Room")),
                note=_("A room is available while any therapist works, outside closures."),
            ),
        ]
