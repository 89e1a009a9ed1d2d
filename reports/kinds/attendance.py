"""No-shows and late cancellations (R13's missed sessions, `sessions.models.missed_filter`), by
week or month and by therapist.

Appointments are the sessions starting in the period that were not cancelled in time: a
cancellation inside the notice freed nobody's time for another patient, so it counts as an
appointment missed; one in time does not count at all.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils.translation import gettext_lazy as _

from practice.models import Practice, Therapist
from reports.period import Grouping, Period
from reports.registry import ChartSpec, Column, Kind, Report, Table, register
from reports.sql import ratio
from sessions.models import Session, SessionStatus

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

COUNTS = (
    Column("appointments", _("Appointments")),
    Column("no_shows", _("No-shows")),
    Column("late_cancellations", _("Late cancellations")),
    Column("missed_rate", _("Missed rate"), Kind.RATIO),
)


def _chart(category: str, x_label: StrOrPromise) -> ChartSpec:
    return ChartSpec(
        category=(category,),
        series=("no_shows", "late_cancellations"),
        x_label=x_label,
        y_label=_("Sessions"),
    )


NO_SHOW = Q(status=SessionStatus.NO_SHOW)
LATE = Q(status=SessionStatus.CANCELLED, late_cancellation=True)


def _appointments(practice: Practice, period: Period) -> QuerySet[Session]:
    start, end = period.instants(practice)
    return (
        Session.objects.for_practice(practice)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=SessionStatus.CANCELLED, late_cancellation=False)
    )


def _counted(sessions: QuerySet[Session], by: str) -> dict[object, tuple[int, int, int]]:
    return {
        key: (total, no_shows, late)
        for key, total, no_shows, late in sessions.values(by)
        .annotate(
            total=Count("id"),
            no_shows=Count("id", filter=NO_SHOW),
            late=Count("id", filter=LATE),
        )
        .values_list(by, "total", "no_shows", "late")
    }


def _counts(found: tuple[int, int, int] | None) -> tuple[int, int, int, float | None]:
    total, no_shows, late = found or (0, 0, 0)
    return total, no_shows, late, ratio(no_shows + late, total)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


@register
class Attendance(Report):
    slug = "no-shows"
    title = _("No-shows and late cancellations")
    description = _(
        "Sessions missed without notice or cancelled inside the notice period, by week or "
        "month and by therapist."
    )
    order = 20
    grouped = True
    table_keys = ("periods", "therapists")

    def tables(self, *, practice: Practice, period: Period) -> list[Table]:
        sessions = _appointments(practice, period)
        trunc = TruncWeek if period.grouping == Grouping.WEEK else TruncMonth
        by_period = {
            _day(key): counts
            for key, counts in _counted(
                sessions.annotate(bucket=trunc("starts_at", tzinfo=practice.zone)), "bucket"
            ).items()
            if isinstance(key, date)
        }
        by_therapist = _counted(sessions, "therapist_id")
        therapists = Therapist.objects.for_practice(practice).order_by("name", "id")
        return [
            Table(
                key="periods",
                title=_("No-shows and late cancellations by period"),
                columns=(Column("period", _("Period starting"), Kind.DATE), *COUNTS),
                rows=[
                    (bucket.isoformat(), *_counts(by_period.get(bucket)))
                    for bucket in period.buckets()
                ],
                chart=_chart("period", _("Period starting")),
            ),
            Table(
                key="therapists",
                title=_("No-shows and late cancellations by therapist"),
                columns=(
                    Column("therapist_id", _("Therapist id")),
                    Column("therapist", _("Therapist"), Kind.TEXT),
                    *COUNTS,
                ),
                rows=[(t.pk, t.name, *_counts(by_therapist.get(t.pk))) for t in therapists],
                chart=_chart("therapist", _("Therapist")),
            ),
        ]
