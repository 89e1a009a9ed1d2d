"""Courses by the week or month they started in and by massage type, with how they went on:
completed, interrupted (R13), cancelled, or still running (`courses.lifecycle`).

A course counts as started once its first session started (active, completed or interrupted;
`courses.lifecycle.course_activate`); a planned course has not started, and a cancelled one is
shown apart, since the lifecycle does not say whether it had begun. A course has no date of
completion of its own, so each is counted in the period it started in: a cohort.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils.translation import gettext_lazy as _

from courses.models import Course, CourseStatus
from practice.models import MassageType, Practice
from reports.period import Grouping, Period
from reports.registry import ChartSpec, Column, Kind, Report, Table, register

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

STARTED = (CourseStatus.ACTIVE, CourseStatus.COMPLETED, CourseStatus.INTERRUPTED)
COUNTS = (
    Column("started", _("Started")),
    Column("completed", _("Completed")),
    Column("interrupted", _("Interrupted")),
    Column("running", _("Still running")),
    Column("cancelled", _("Cancelled")),
)
EMPTY = (0, 0, 0, 0, 0)


def _chart(category: str, x_label: StrOrPromise) -> ChartSpec:
    return ChartSpec(
        category=(category,),
        series=("started", "completed", "interrupted"),
        x_label=x_label,
        y_label=_("Courses"),
    )


def _counted(courses: QuerySet[Course], by: str) -> dict[object, tuple[int, ...]]:
    return {
        key: tuple(counts)
        for key, *counts in courses.values(by)
        .annotate(
            started=Count("id", filter=Q(status__in=STARTED)),
            completed=Count("id", filter=Q(status=CourseStatus.COMPLETED)),
            interrupted=Count("id", filter=Q(status=CourseStatus.INTERRUPTED)),
            running=Count("id", filter=Q(status=CourseStatus.ACTIVE)),
            cancelled=Count("id", filter=Q(status=CourseStatus.CANCELLED)),
        )
        .values_list(by, "started", "completed", "interrupted", "running", "cancelled")
    }


@register
class Courses(Report):
    slug = "courses"
    title = _("Courses")
    description = _(
        "Courses started in the period by week or month and by massage type, and how many of "
        "them were completed, interrupted or cancelled."
    )
    order = 30
    grouped = True
    table_keys = ("periods", "massage_types")

    def tables(self, *, practice: Practice, period: Period) -> list[Table]:
        courses = Course.objects.for_practice(practice).filter(
            start_date__gte=period.first, start_date__lte=period.last
        )
        trunc = TruncWeek if period.grouping == Grouping.WEEK else TruncMonth
        by_period: dict[object, tuple[int, ...]] = _counted(
            courses.annotate(bucket=trunc("start_date")), "bucket"
        )
        by_type = _counted(courses, "massage_type_id")
        types = MassageType.objects.for_practice(practice).order_by("rotation_order", "name")
        return [
            Table(
                key="periods",
                title=_("Courses by the period they started in"),
                columns=(Column("period", _("Period starting"), Kind.DATE), *COUNTS),
                rows=[
                    (bucket.isoformat(), *by_period.get(bucket, EMPTY))
                    for bucket in period.buckets()
                ],
                chart=_chart("period", _("Period starting")),
            ),
            Table(
                key="massage_types",
                title=_("Courses by massage type"),
                columns=(
                    Column("massage_type_id", _("Massage type id")),
                    Column("massage_type", _("Massage type"), Kind.TEXT),
                    *COUNTS,
                ),
                rows=[
                    (kind.pk, kind.display_name, *by_type.get(kind.pk, EMPTY))
                    for kind in types
                    if kind.active or kind.pk in by_type
                ],
                chart=_chart("massage_type", _("Massage type")),
            ),
        ]
