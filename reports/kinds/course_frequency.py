"""The R11 picture: the patients due for their next course now (the desk's own list,
`sessions.selectors.courses_due`), and how many courses each patient started per calendar year
of the period: at most 4 (R11's limit), at least 2 for a patient in a chronic/prevention plan.
Patients without a course that year are counted as 0; cancelled courses are not counted."""

from __future__ import annotations

from django.db.models import Count, F, Q
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import Course, CourseStatus
from courses.rules import MAX_COURSES_PER_YEAR
from patients.models import Patient
from practice.models import Practice
from reports.period import Period
from reports.registry import ChartSpec, Column, Kind, Report, Table, register
from reports.sql import regroup
from sessions.selectors import courses_due


def _distribution(practice: Practice, period: Period) -> list[tuple[int, int, int, int]]:
    """(year, courses started in it, patients, of them in a chronic plan) for each calendar
    year of the period, from 0 to 4 courses (more, where R11 was overridden, in rows of
    their own)."""
    per_patient = (
        Course.objects.for_practice(practice)
        .filter(start_date__gte=period.first, start_date__lte=period.last)
        .exclude(status=CourseStatus.CANCELLED)
        .annotate(year=ExtractYear("start_date"), chronic=F("patient__chronic_plan"))
        .values("patient_id", "year", "chronic")
        .annotate(courses=Count("id"))
        .values("year", "chronic", "courses")
        .order_by()
    )
    counted = {
        (int(year), int(courses)): (int(patients), int(chronic))
        for year, courses, patients, chronic in regroup(
            per_patient,
            select="year, courses, COUNT(*), SUM(CASE WHEN chronic THEN 1 ELSE 0 END)",
            group_by="year, courses",
        )
    }
    # Those without a course in a year: the practice's patients not archived, less those
    # with one (an archived patient with a course in the period is counted with it).
    totals = (
        Patient.objects.for_practice(practice)
        .filter(archived=False)
        .aggregate(everyone=Count("id"), chronic=Count("id", filter=Q(chronic_plan=True)))
    )
    rows = []
    for year in range(period.first.year, period.last.year + 1):
        held = {courses: found for (y, courses), found in counted.items() if y == year}
        patients = sum(found[0] for found in held.values())
        chronic = sum(found[1] for found in held.values())
        rows.append(
            (year, 0, max(totals["everyone"] - patients, 0), max(totals["chronic"] - chronic, 0))
        )
        for courses in range(1, max([MAX_COURSES_PER_YEAR, *held]) + 1):
            rows.append((year, courses, *held.get(courses, (0, 0))))
    return rows


@register
class CourseFrequency(Report):
    slug = "r11-courses-per-year"
    title = _("Courses per patient per year (R11)")
    description = _(
        "The patients due for their next course today, and how many patients started 0, 1, "
        "2, 3 or 4 courses in each year of the period."
    )
    order = 40
    table_keys = ("due", "distribution")

    def tables(self, *, practice: Practice, period: Period) -> list[Table]:
        today = timezone.localdate(timezone=practice.zone)
        due = courses_due(practice=practice, today=today)
        distribution = _distribution(practice, period)
        return [
            Table(
                key="due",
                title=_("Patients due for a course"),
                note=_(
                    "As of today, whatever the period: patients in a chronic or prevention "
                    "plan whose next course is due within two weeks or overdue, not booked yet."
                ),
                columns=(
                    Column("patient_id", _("Patient id")),
                    Column("patient", _("Patient"), Kind.TEXT),
                    Column("last_course_type", _("Last course"), Kind.TEXT),
                    Column("last_course_start", _("Last course started"), Kind.DATE),
                    Column("due_on", _("Due on"), Kind.DATE),
                    Column("proposed_type", _("Proposed type (R12)"), Kind.TEXT),
                ),
                rows=[
                    (
                        row.due.patient.pk,
                        row.due.patient.full_name,
                        row.due.last_course.massage_type.display_name
                        if row.due.last_course
                        else None,
                        row.due.last_course.start_date.isoformat() if row.due.last_course else None,
                        row.due.due_on.isoformat(),
                        row.due.proposed_type.display_name if row.due.proposed_type else None,
                    )
                    for row in due
                ],
            ),
            Table(
                key="distribution",
                title=_("Patients by courses started per year"),
                columns=(
                    Column("year", _("Year"), Kind.TEXT),
                    Column("courses", _("Courses started")),
                    Column("patients", _("Patients")),
                    Column("chronic_patients", _("Of them in a chronic plan")),
                ),
                rows=distribution,
                chart=ChartSpec(
                    category=("year", "courses"),
                    series=("patients", "chronic_patients"),
                    x_label=_("Courses started in the year"),
                    y_label=_("Patients"),
                ),
            ),
        ]
