"""The R12 rotation: how often a patient's course repeats the massage type of their previous
course with the same therapist (R12 warns about it; changing the type or the therapist is what
keeps the body from adapting). Counted per therapist of the later course, for the courses
starting in the period; the previous course may have started before it. Cancelled courses are
left out, as R12's own comparison leaves them (`courses.selectors.previous_course`)."""

from __future__ import annotations

from django.db.models import F, Window
from django.db.models.functions import Lag
from django.utils.translation import gettext_lazy as _

from courses.models import Course, CourseStatus
from practice.models import Practice, Therapist
from reports.period import Period
from reports.registry import ChartSpec, Column, Kind, Report, Table, register
from reports.sql import ratio, regroup


def _repeats(practice: Practice, period: Period) -> dict[int, tuple[int, int]]:
    """Therapist id -> (courses with a previous course, of them repeating its type with
    the same therapist), for the courses starting in the period."""

    def previous(column: str) -> Window:
        return Window(
            Lag(column), partition_by=[F("patient_id")], order_by=[F("start_date"), F("id")]
        )

    consecutive = (
        Course.objects.for_practice(practice)
        .exclude(status=CourseStatus.CANCELLED)
        .annotate(
            previous_type=previous("massage_type_id"),
            previous_therapist=previous("therapist_id"),
        )
        .values(
            "therapist_id", "massage_type_id", "start_date", "previous_type", "previous_therapist"
        )
        .order_by()
    )
    # The window must see the patient's earlier courses, so the period filters outside it.
    found = regroup(
        consecutive,
        select=(
            "therapist_id, COUNT(previous_type), "
            "SUM(CASE WHEN previous_type = massage_type_id "
            "AND previous_therapist = therapist_id THEN 1 ELSE 0 END)"
        ),
        group_by="therapist_id",
        where="start_date >= %s AND start_date <= %s",
        params=[period.first, period.last],
    )
    return {therapist_id: (int(pairs), int(repeats or 0)) for therapist_id, pairs, repeats in found}


@register
class Rotation(Report):
    slug = "r12-rotation"
    title = _("Rotation of massage types (R12)")
    description = _(
        "How often a course repeats the massage type of the patient's previous course with "
        "the same therapist, per therapist of the later course."
    )
    order = 50
    table_keys = ("therapists",)

    def tables(self, *, practice: Practice, period: Period) -> list[Table]:
        found = _repeats(practice, period)
        therapists = Therapist.objects.for_practice(practice).order_by("name", "id")
        rows = []
        for therapist in therapists:
            pairs, repeats = found.get(therapist.pk, (0, 0))
            rows.append((therapist.pk, therapist.name, pairs, repeats, ratio(repeats, pairs)))
        return [
            Table(
                key="therapists",
                title=_("Repeated type with the same therapist, per therapist"),
                columns=(
                    Column("therapist_id", _("Therapist id")),
                    Column("therapist", _("Therapist"), Kind.TEXT),
                    Column("follow_ups", _("Courses after a previous one")),
                    Column("repeats", _("Same type, same therapist")),
                    Column("repeat_rate", _("Repeat rate"), Kind.RATIO),
                ),
                rows=rows,
                chart=ChartSpec(
                    category=("therapist",),
                    series=("follow_ups", "repeats"),
                    x_label=_("Therapist"),
                    y_label=_("Courses"),
                ),
            )
        ]
