"""The front desk's course pages: plan a course (see the plan, with every moved session
explained, before booking it), the course list, the patients due for their next course (R11),
a course's page with its sessions and a chart of pain and blood pressure, and cancelling a
course. Here rather than in courses/ because they
plan, book and show the course's sessions.

Planning, booking and cancelling call `sessions.booking.courses`, exactly as the API does;
the pages add nothing to the rules. A stale plan (a time taken since it was shown) is
answered with the service's message and a fresh plan to confirm instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from courses.lifecycle import CANCELLABLE_STATUSES
from courses.selectors import course_overrides_recorded, previous_course, r12_proposed_type
from courses.services import CoursePlan
from patients.models import Patient
from patients.selectors import patient_data_read, patient_search, patients_visible_to
from practice.errors import Conflict
from practice.pages import Notices, errors_to_form, redirect_with_notice
from practice.tenancy import PracticeRequest
from practice.web import staff_page
from sessions.booking.courses import course_book, course_cancel, course_plan
from sessions.pages.course_forms import (
    CourseBookForm,
    CourseCancelForm,
    CoursePlanForm,
    PatientSearchForm,
)
from sessions.selectors import (
    CourseProgress,
    SessionProgress,
    course_list,
    course_progress,
    courses_due,
)

PAGE_SIZE = 25
NOTICES = Notices(
    {
        "course-booked": gettext_lazy("The course is booked."),
        "course-cancelled": gettext_lazy(
            "The course is cancelled, with its sessions still to come."
        ),
    }
)
render_page = NOTICES.render


def _patient(request: PracticeRequest, value: str | None) -> Patient | None:
    if not value:
        return None
    try:
        pk = int(value)
    except ValueError as exc:
        raise Http404(_("No such patient.")) from exc
    return get_object_or_404(
        patients_visible_to(membership=request.membership).filter(archived=False), pk=pk
    )


def _plan_context(plan: CoursePlan, form: CoursePlanForm, book_form: CourseBookForm) -> dict:
    values = form.as_hidden_values()
    proposed = plan.proposed_massage_type
    return {
        "plan": plan,
        "book_form": book_form,
        # R12: the same request with the rotation's proposed type, to plan with one click.
        "proposed_values": {**values, "massage_type": str(proposed.pk)} if proposed else None,
    }


def _book_form(request: PracticeRequest, form: CoursePlanForm, plan: CoursePlan) -> CourseBookForm:
    return CourseBookForm(
        practice=request.practice,
        ask_reason=plan.override_required,
        initial={
            **form.as_hidden_values(),
            "starts": [item.starts_at.isoformat() for item in plan.sessions],
        },
    )


@staff_page
@require_http_methods(["GET", "POST"])
def course_plan_view(request: PracticeRequest) -> HttpResponse:
    """Plan a course: choose → see the plan → confirm. Nothing is saved until "Book"."""
    practice = request.practice
    context: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        patient = _patient(request, request.POST.get("patient"))
        form = CoursePlanForm(request.POST, practice=practice)
        booking = request.POST.get("action") == "book"
        if not form.is_valid():
            status = 400
        elif booking:
            book_form = CourseBookForm(request.POST, practice=practice, ask_reason=True)
            response, context, status = _book(request, form, book_form)
            if response is not None:
                return response
        else:
            context, status = _plan(request, form)
    else:
        patient = _patient(request, request.GET.get("patient"))
        tomorrow = timezone.localdate(timezone=practice.zone) + timedelta(days=1)
        # A link may prefill the slot ("start a course here" on the calendar); the form
        # checks every value when the plan is asked for.
        prefill = {
            name: request.GET[name]
            for name in ("therapist", "start_date", "preferred_time", "room")
            if request.GET.get(name)
        }
        form = CoursePlanForm(
            practice=practice,
            initial={
                "patient": patient.pk if patient else None,
                "start_date": tomorrow,
                **prefill,
            },
        )
    if patient is None:
        return _pick_patient(request)
    previous = previous_course(patient)
    return render_page(
        request,
        "courses/course_plan.html",
        {
            "patient": patient,
            "form": form,
            "previous": previous,
            "rotation_proposes": r12_proposed_type(previous) if previous else None,
            **context,
        },
        status=status,
    )


def _plan(request: PracticeRequest, form: CoursePlanForm) -> tuple[dict, int]:
    try:
        plan = course_plan(request=form.course_request())
    except Conflict as exc:
        form.add_error(None, str(exc.detail))
        return {}, 409
    except ValidationError as exc:
        errors_to_form(form, exc)
        return {}, 400
    return _plan_context(plan, form, _book_form(request, form, plan)), 200


def _book(
    request: PracticeRequest, form: CoursePlanForm, book_form: CourseBookForm
) -> tuple[HttpResponse | None, dict, int]:
    if not book_form.is_valid():
        # Only a tampered or truncated page gets here: plan again from the request.
        context, status = _plan(request, form)
        return None, {**context, "stale": _("The plan was incomplete; here it is again.")}, status
    try:
        course = course_book(
            request=form.course_request(),
            starts=book_form.cleaned_data["starts"],
            override_reason=book_form.cleaned_data["override_reason"],
            may_override=request.membership.is_staff_role,
            booked_by=request.user,
        )
    except Conflict as exc:
        # A time of the plan was taken since it was shown: say which, and plan again.
        context, status = _plan(request, form)
        return None, {**context, "stale": str(exc.detail)}, 409 if status == 200 else status
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and set(exc.error_dict) == {"override_reason"}:
            context, status = _plan(request, form)
            if "book_form" in context:
                retry = CourseBookForm(request.POST, practice=request.practice, ask_reason=True)
                retry.is_valid()
                errors_to_form(retry, exc)
                context["book_form"] = retry
            return None, context, 400
        errors_to_form(form, exc)
        return None, {}, 400
    target = reverse(
        "courses:course-detail", kwargs={"practice_slug": request.practice.slug, "pk": course.pk}
    )
    return redirect_with_notice(target, "course-booked"), {}, 302


def _pick_patient(request: PracticeRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    patients = patient_search(
        patients=patients_visible_to(membership=request.membership).filter(archived=False),
        query=query,
    )
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(
        request,
        "courses/course_pick_patient.html",
        {"form": form, "page": page, "query": query, "page_query": urlencode({"q": query})},
    )


@staff_page
def course_list_view(request: PracticeRequest) -> HttpResponse:
    courses = course_list(membership=request.membership)
    page = Paginator(courses, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(request, "courses/course_list.html", {"page": page})


@staff_page
def courses_due_view(request: PracticeRequest) -> HttpResponse:
    """R11: the patients in a chronic/prevention plan whose next course is due (they are
    nudged too), with the type the rotation proposes (R12), to call and book."""
    today = timezone.localdate(timezone=request.practice.zone)
    rows = courses_due(practice=request.practice, today=today)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(request, "courses/courses_due.html", {"page": page, "today": today})


# --- The course page and its chart ---------------------------------------------------------------

WIDTH, HEIGHT = 320, 160
LEFT, RIGHT, TOP, BOTTOM = 36, 10, 10, 24


@dataclass(frozen=True)
class Series:
    label: str
    css: str
    points: str  # SVG polyline points
    dots: tuple[tuple[float, float, int], ...]  # x, y, value


@dataclass(frozen=True)
class Chart:
    """A small line chart drawn by the template as inline SVG: no JavaScript, no library."""

    title: str
    width: int
    height: int
    series: tuple[Series, ...]
    y_ticks: tuple[tuple[float, int], ...]
    x_labels: tuple[tuple[float, str], ...]


def trend_chart(
    *,
    title: str,
    sessions: list[SessionProgress],
    lines: list[tuple[str, str, str]],
    low: int,
    high: int,
    step: int,
) -> Chart | None:
    """`lines`: (attribute of SessionProgress, label, css class). None when nothing to draw."""
    if not sessions:
        return None
    span_x = WIDTH - LEFT - RIGHT
    span_y = HEIGHT - TOP - BOTTOM
    count = len(sessions)

    def x(index: int) -> float:
        return LEFT + (span_x * index / (count - 1) if count > 1 else span_x / 2)

    def y(value: int) -> float:
        clamped = min(max(value, low), high)
        return TOP + span_y * (high - clamped) / (high - low)

    series = []
    for attribute, label, css in lines:
        dots = tuple(
            (round(x(i), 1), round(y(value), 1), value)
            for i, item in enumerate(sessions)
            if (value := getattr(item, attribute)) is not None
        )
        if dots:
            points = " ".join(f"{dx},{dy}" for dx, dy, _value in dots)
            series.append(Series(label, css, points, dots))
    if not series:
        return None
    return Chart(
        title=title,
        width=WIDTH,
        height=HEIGHT,
        series=tuple(series),
        y_ticks=tuple((round(y(v), 1), v) for v in range(low, high + 1, step)),
        x_labels=tuple(
            (round(x(i), 1), str(item.sequence or "")) for i, item in enumerate(sessions)
        ),
    )


def course_charts(progress: CourseProgress) -> list[Chart]:
    done = [s for s in progress.sessions if s.status == "completed"]
    charts = [
        trend_chart(
            title=_("Pain before and after (0–10)"),
            sessions=done,
            lines=[
                ("pain_before", _("Pain before"), "before"),
                ("pain_after", _("Pain after"), "after"),
            ],
            low=0,
            high=10,
            step=2,
        ),
        trend_chart(
            title=_("Blood pressure (mmHg)"),
            sessions=done,
            lines=[
                ("systolic_before", _("Systolic before"), "before"),
                ("systolic_after", _("Systolic after"), "after"),
                ("diastolic_before", _("Diastolic before"), "before dia"),
                ("diastolic_after", _("Diastolic after"), "after dia"),
            ],
            low=40,
            high=200,
            step=40,
        ),
    ]
    return [chart for chart in charts if chart is not None]


def _course_page(
    request: PracticeRequest,
    pk: int,
    *,
    cancel_form: CourseCancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    course = get_object_or_404(
        course_list(membership=request.membership, with_sessions=True), pk=pk
    )
    # Its sessions' pain scores and blood pressure are the patient's health data.
    patient_data_read(course, patient_id=course.patient_id)
    sessions = list(course.sessions.all())
    progress = course_progress(course, sessions)
    by_id = {session.pk: session for session in sessions}
    rows = [(by_id[item.session_id], item) for item in progress.sessions]
    return render_page(
        request,
        "courses/course_detail.html",
        {
            "course": course,
            "overrides": course_overrides_recorded(course=course),
            "progress": progress,
            "rows": rows,
            "charts": course_charts(progress),
            "cancellable": course.status in CANCELLABLE_STATUSES,
            "cancel_form": cancel_form or CourseCancelForm(),
        },
        status=status,
    )


@staff_page
def course_detail(request: PracticeRequest, pk: int) -> HttpResponse:
    return _course_page(request, pk)


@staff_page
@require_POST
def course_cancel_view(request: PracticeRequest, pk: int) -> HttpResponse:
    """Cancel the course with its sessions still to come (`course_cancel`, as the API)."""
    course = get_object_or_404(course_list(membership=request.membership), pk=pk)
    form = CourseCancelForm(request.POST)
    if not form.is_valid():
        return _course_page(request, pk, cancel_form=form, status=400)
    try:
        course_cancel(course=course, by=request.user, reason=form.cleaned_data["reason"])
    except Conflict as exc:
        form.add_error(None, exc.detail)
        return _course_page(request, pk, cancel_form=form, status=409)
    target = reverse(
        "courses:course-detail", kwargs={"practice_slug": request.practice.slug, "pk": pk}
    )
    return redirect_with_notice(target, "course-cancelled")
