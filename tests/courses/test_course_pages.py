"""The course pages through Django's test client: who may open what, planning (the plan with
moved sessions explained, saving nothing), booking the plan shown, a stale plan answered with
a message and a fresh plan, R11, R12 with its proposed type and override reason, form errors
next to their fields, and the course page with its chart of pain and blood pressure."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.models import Course
from courses.selectors import course_overrides_recorded
from patients.models import Patient
from practice.models import Practice, Role, Therapist
from sessions.models import Session, SessionStatus
from tests.clock import today
from tests.factories import (
    ClosureFactory,
    CourseFactory,
    PatientFactory,
    ScreeningFactory,
    SessionFactory,
    SessionRecordFactory,
    TherapistFactory,
    massage_type,
)
from tests.pages import field_errors, logged_in, text

pytestmark = pytest.mark.django_db


def url(name: str, practice: Practice, **kwargs: object) -> str:
    return reverse(f"courses:{name}", kwargs={"practice_slug": practice.slug, **kwargs})


@pytest.fixture
def ann(practice) -> Patient:
    patient = PatientFactory(practice=practice, given_name="Ann", family_name="Berg")
    ScreeningFactory(patient=patient, screened_on=today(practice))
    return patient


@pytest.fixture
def therapist(practice) -> Therapist:
    return TherapistFactory(practice=practice, week=True)


def plan_data(practice: Practice, patient: Patient, therapist: Therapist, **extra) -> dict:
    return {
        "action": "plan",
        "patient": patient.pk,
        "therapist": therapist.pk,
        "massage_type": massage_type(practice, "relaxing").pk,
        "sessions_count": 10,
        "cadence": "every_other_day",
        "start_date": (today(practice, days=2)).isoformat(),
        "preferred_time": "18:00",
        "room": "",
        **extra,
    }


def planned_starts(html: str) -> list[str]:
    return re.findall(r'type="hidden" name="starts" value="([^"]+)"', html)


def book_data(data: dict, html: str, **extra) -> dict:
    return {**data, "action": "book", "starts": planned_starts(html), **extra}


# --- Who may open what ------------------------------------------------------------------------


def test_it_refuses_the_course_pages_to_patients_and_anonymous_visitors(
    practice, member, ann, therapist
) -> None:
    course = CourseFactory(practice=practice, patient=ann, therapist=therapist)
    ann.user = member(practice, Role.PATIENT, email="ann@example.com")
    ann.save()
    pages = [
        url("course-list", practice),
        url("course-plan", practice),
        url("course-detail", practice, pk=course.pk),
    ]
    for page in pages:
        assert Client().get(page).status_code == 302, page
        assert logged_in(ann.user).get(page).status_code == 403, page
    response = logged_in(ann.user).post(
        url("course-plan", practice), plan_data(practice, ann, therapist)
    )
    assert response.status_code == 403


def test_staff_of_another_practice_get_404(
    practice, other_practice, other_desk, ann, therapist
) -> None:
    course = CourseFactory(practice=practice, patient=ann, therapist=therapist)
    client = logged_in(other_desk)
    assert client.get(url("course-detail", practice, pk=course.pk)).status_code == 404
    assert client.get(url("course-detail", other_practice, pk=course.pk)).status_code == 404
    assert client.get(url("course-plan", other_practice), {"patient": ann.pk}).status_code == 404
    response = client.post(url("course-plan", other_practice), plan_data(practice, ann, therapist))
    assert response.status_code == 404
    assert "Ann Berg" not in text(client.get(url("course-list", other_practice)))


def test_both_staff_roles_open_the_course_pages(practice, member, desk, ann, therapist) -> None:
    course = CourseFactory(practice=practice, patient=ann, therapist=therapist)
    clinician = member(practice, Role.THERAPIST, email="t@example.com")
    # Ann is a patient of the clinician's: a therapist sees their own patients' records.
    SessionFactory(
        patient=ann,
        therapist=TherapistFactory(practice=practice, user=clinician, week=True),
        starts_at=course.sessions.get(sequence=1).starts_at - timedelta(days=7),
    )
    for user in (desk, clinician):
        client = logged_in(user)
        assert "Ann Berg" in text(client.get(url("course-list", practice)))
        assert client.get(url("course-detail", practice, pk=course.pk)).status_code == 200
        assert client.get(url("course-plan", practice), {"patient": ann.pk}).status_code == 200


# --- Choosing the patient ---------------------------------------------------------------------


def test_without_a_patient_the_plan_page_searches_for_one(practice, desk, ann) -> None:
    PatientFactory(practice=practice, given_name="Otto", family_name="Lang")
    html = text(logged_in(desk).get(url("course-plan", practice), {"q": "berg"}))
    assert "Plan a course for Ann Berg" in html
    assert "Otto Lang" not in html
    assert f"?patient={ann.pk}" in html


@pytest.mark.parametrize("value", ["abc", "999999"])
def test_an_unknown_patient_is_a_404(practice, desk, value: str) -> None:
    assert logged_in(desk).get(url("course-plan", practice), {"patient": value}).status_code == 404


def test_the_patient_record_links_to_planning_and_lists_courses_with_progress(
    practice, desk, ann, therapist
) -> None:
    course = CourseFactory(
        practice=practice, patient=ann, therapist=therapist, start_date=today(practice)
    )
    first = course.sessions.get(sequence=1)
    first.status = SessionStatus.COMPLETED
    first.save()
    html = text(
        logged_in(desk).get(
            reverse(
                "patients:patient-detail", kwargs={"practice_slug": practice.slug, "pk": ann.pk}
            )
        )
    )
    assert f"/courses/plan/?patient={ann.pk}" in html
    assert url("course-detail", practice, pk=course.pk) in html
    assert "1 of 10 done" in html
    assert '<progress max="10" value="1"' in html


# --- Planning ---------------------------------------------------------------------------------


def test_planning_shows_the_sessions_and_saves_nothing(practice, desk, ann, therapist) -> None:
    response = logged_in(desk).post(
        url("course-plan", practice), plan_data(practice, ann, therapist)
    )
    html = text(response)
    assert response.status_code == 200
    assert "10 sessions of Relaxing with" in html
    starts = [datetime.fromisoformat(s) for s in planned_starts(html)]
    assert len(starts) == 10
    # R24: 18:00 in the practice's zone; R10: every other day.
    assert {s.astimezone(practice.zone).strftime("%H:%M") for s in starts} == {"18:00"}
    assert (starts[1] - starts[0]).days == 2
    # R14: a gentle first session.
    assert re.search(r"<td>18:00–18:10</td>\s*<td>10</td>", html)
    assert not Course.objects.exists()
    assert not Session.objects.exists()


def test_a_closed_day_moves_the_session_and_says_why(practice, desk, ann, therapist) -> None:
    closed = today(practice, days=4)
    ClosureFactory(
        practice=practice,
        starts_at=datetime.combine(closed, time(0), tzinfo=practice.zone),
        ends_at=datetime.combine(closed + timedelta(days=1), time(0), tzinfo=practice.zone),
    )
    html = text(
        logged_in(desk).post(url("course-plan", practice), plan_data(practice, ann, therapist))
    )
    assert re.search(r'<tr class="moved">\s*<th scope="row">2</th>', html)
    assert "The practice is closed that day." in html


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"sessions_count": 16}, "sessions_count", "R9"),
        ({"sessions_count": 9}, "sessions_count", "R9"),
        ({"sessions_count": 10**9}, "sessions_count", "10 to 15"),
        ({"sessions_count": "ten"}, "sessions_count", "whole number"),
        ({"cadence": "weekly"}, "cadence", "valid choice"),
        ({"preferred_time": "25:00"}, "preferred_time", "valid time"),
        ({"start_date": "2020-01-01"}, "start_date", "past"),
        ({"start_date": "9999-12-31"}, "start_date", "between"),
        ({"start_date": ""}, "start_date", "required"),
        ({"therapist": 999999}, "therapist", "valid choice"),
        ({"massage_type": "x"}, "massage_type", "valid choice"),
    ],
)
def test_bad_input_is_an_error_next_to_the_field(
    practice, desk, ann, therapist, extra: dict, field: str, message: str
) -> None:
    response = logged_in(desk).post(
        url("course-plan", practice), {**plan_data(practice, ann, therapist), **extra}
    )
    assert response.status_code == 400
    assert message in field_errors(text(response), field)
    assert not Course.objects.exists()


def test_another_practices_therapist_cannot_be_chosen(practice, other_practice, desk, ann) -> None:
    elsewhere = TherapistFactory(practice=other_practice, week=True)
    response = logged_in(desk).post(
        url("course-plan", practice), plan_data(practice, ann, elsewhere)
    )
    assert response.status_code == 400
    assert "valid choice" in field_errors(text(response), "therapist")


def test_r1_an_unscreened_patient_is_refused_with_the_reason(practice, desk, therapist) -> None:
    patient = PatientFactory(practice=practice)
    response = logged_in(desk).post(
        url("course-plan", practice), plan_data(practice, patient, therapist)
    )
    assert response.status_code == 400
    assert "R1" in text(response)


def test_r8_a_course_starting_on_the_day_of_a_high_reading_is_refused_with_the_reason(
    practice, desk, ann, therapist
) -> None:
    ScreeningFactory(patient=ann, systolic=168, diastolic=98)

    response = logged_in(desk).post(
        url("course-plan", practice),
        plan_data(practice, ann, therapist, start_date=today(practice).isoformat()),
    )

    assert response.status_code == 400
    assert "R8" in text(response)
    assert "168/98" in text(response)


def test_r4_a_course_of_a_type_the_screening_blocks_is_refused(practice, desk, therapist) -> None:
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, yes={"pregnancy": ""})

    response = logged_in(desk).post(
        url("course-plan", practice),
        plan_data(practice, patient, therapist, massage_type=massage_type(practice, "cupping").pk),
    )

    assert response.status_code == 400
    assert "R4" in text(response)
    assert not Course.objects.exists()


def test_no_open_day_before_the_horizon_is_a_message(practice, desk, ann, therapist) -> None:
    practice.settings.booking_horizon_days = 10
    practice.settings.save()
    response = logged_in(desk).post(
        url("course-plan", practice), plan_data(practice, ann, therapist, sessions_count=15)
    )
    assert response.status_code == 409
    assert "finds no open day" in text(response)


def test_r11_a_fifth_course_in_a_year_is_refused_next_to_the_start_date(
    practice, desk, ann, therapist
) -> None:
    for months in range(4):
        CourseFactory(
            patient=ann,
            therapist=therapist,
            kind="classical",
            start_date=today(practice) - timedelta(days=30 * months + 20),
            bare=True,
        )
    response = logged_in(desk).post(
        url("course-plan", practice), plan_data(practice, ann, therapist)
    )
    assert response.status_code == 400
    assert "R11" in field_errors(text(response), "start_date")


# --- Booking ----------------------------------------------------------------------------------


def test_booking_the_plan_shown_books_every_session(practice, desk, ann, therapist) -> None:
    client = logged_in(desk)
    data = plan_data(practice, ann, therapist)
    shown = text(client.post(url("course-plan", practice), data))
    response = client.post(url("course-plan", practice), book_data(data, shown))
    course = Course.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("course-detail", practice, pk=course.pk) + (
        "?notice=course-booked"
    )
    starts = sorted(course.sessions.values_list("starts_at", flat=True))
    assert starts == [datetime.fromisoformat(s) for s in planned_starts(shown)]
    assert course.created_by == desk
    page = text(client.get(response["Location"]))
    assert "The course is booked." in page
    assert page.count("status-row status-booked") == 10


def test_a_stale_plan_is_a_message_and_a_fresh_plan(practice, desk, ann, therapist) -> None:
    client = logged_in(desk)
    data = plan_data(practice, ann, therapist)
    shown = text(client.post(url("course-plan", practice), data))
    third = datetime.fromisoformat(planned_starts(shown)[2])
    # Someone books the third session's time before the desk confirms.
    SessionFactory(therapist=therapist, patient=PatientFactory(practice=practice), starts_at=third)
    response = client.post(url("course-plan", practice), book_data(data, shown))
    html = text(response)
    assert response.status_code == 409
    assert "Session 3 on" in html
    assert "plan the course again" in html
    assert not Course.objects.exists()
    fresh = [datetime.fromisoformat(s) for s in planned_starts(html)]
    assert len(fresh) == 10
    assert third not in fresh
    # The fresh plan books.
    assert client.post(url("course-plan", practice), book_data(data, html)).status_code == 302
    assert Course.objects.get().sessions.count() == 10


def test_a_garbled_plan_is_planned_again(practice, desk, ann, therapist) -> None:
    client = logged_in(desk)
    data = plan_data(practice, ann, therapist)
    response = client.post(
        url("course-plan", practice), {**data, "action": "book", "starts": ["yesterday"]}
    )
    assert response.status_code == 200
    assert "The plan was incomplete" in text(response)
    assert len(planned_starts(text(response))) == 10
    assert not Course.objects.exists()


@pytest.mark.parametrize("start", ["9999-12-31T23:59:00+00:00", "2026-02-30T10:00:00+00:00"])
def test_a_plan_with_impossible_times_is_planned_again_not_a_500(
    practice, desk, ann, therapist, start: str
) -> None:
    client = logged_in(desk)
    data = plan_data(practice, ann, therapist)
    shown = text(client.post(url("course-plan", practice), data))
    starts = [start, *planned_starts(shown)[1:]]
    response = client.post(
        url("course-plan", practice), {**data, "action": "book", "starts": starts}
    )
    assert response.status_code == 200
    assert "The plan was incomplete" in text(response)
    assert not Course.objects.exists()


def _previous_course(practice: Practice, patient: Patient, therapist: Therapist) -> Course:
    """A relaxing course with the same therapist, completed: R12 warns against another."""
    return CourseFactory(
        patient=patient,
        therapist=therapist,
        kind="relaxing",
        start_date=today(practice, days=-100),
        status="completed",
        bare=True,
    )


def test_r12_the_plan_warns_and_proposes_the_next_type(practice, desk, ann, therapist) -> None:
    _previous_course(practice, ann, therapist)
    client = logged_in(desk)
    html = text(client.post(url("course-plan", practice), plan_data(practice, ann, therapist)))
    assert "R12" in html
    assert re.search(r"The rotation proposes \w+", html)
    proposed = re.search(r"Plan (\w[\w /]*?) instead", html)
    assert proposed
    assert proposed.group(1) != "Relaxing"
    # The reason field is asked for, labelled.
    assert 'for="id_override_reason"' in html


def test_r12_booking_without_a_reason_is_an_error_next_to_the_reason(
    practice, desk, ann, therapist
) -> None:
    _previous_course(practice, ann, therapist)
    client = logged_in(desk)
    data = plan_data(practice, ann, therapist)
    shown = text(client.post(url("course-plan", practice), data))
    response = client.post(url("course-plan", practice), book_data(data, shown, override_reason=""))
    assert response.status_code == 400
    assert "R12" in field_errors(text(response), "override_reason")
    assert Course.objects.count() == 1


def test_r12_booking_with_a_reason_keeps_it_on_the_course(practice, desk, ann, therapist) -> None:
    _previous_course(practice, ann, therapist)
    client = logged_in(desk)
    data = plan_data(practice, ann, therapist)
    shown = text(client.post(url("course-plan", practice), data))
    response = client.post(
        url("course-plan", practice),
        book_data(data, shown, override_reason="Worked very well last time"),
    )
    assert response.status_code == 302
    course = Course.objects.exclude(status="completed").get()
    [override] = course_overrides_recorded(course=course)
    assert (override.rule, override.reason) == ("R12", "Worked very well last time")
    assert override.by == desk.pk
    assert "R12 overridden: Worked very well last time" in text(client.get(response["Location"]))


def test_r12_planning_the_proposed_type_drops_the_warning(practice, desk, ann, therapist) -> None:
    _previous_course(practice, ann, therapist)
    client = logged_in(desk)
    html = text(client.post(url("course-plan", practice), plan_data(practice, ann, therapist)))
    form = html.split('<div class="panel warning">')[1].split("</form>")[0]
    proposed = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    proposed.pop("csrfmiddlewaretoken")
    again = text(client.post(url("course-plan", practice), proposed))
    assert "R12" not in again.split('id="plan"')[1]
    assert len(planned_starts(again)) == 10


# --- The course page --------------------------------------------------------------------------


def _complete(session: Session, *, pain: tuple[int, int], bp: tuple[int, int] | None) -> None:
    session.status = SessionStatus.COMPLETED
    session.save()
    SessionRecordFactory(
        session=session,
        pain_before=pain[0],
        pain_after=pain[1],
        systolic_before=bp[0] if bp else None,
        diastolic_before=bp[1] if bp else None,
        systolic_after=bp[0] - 10 if bp else None,
        diastolic_after=bp[1] - 5 if bp else None,
    )


def test_the_course_page_charts_pain_and_blood_pressure_of_completed_sessions(
    practice, desk, ann, therapist
) -> None:
    course = CourseFactory(practice=practice, patient=ann, therapist=therapist)
    for sequence, pain, bp in ((1, (7, 4), (150, 95)), (2, (5, 2), (140, 90)), (3, (4, 1), None)):
        _complete(course.sessions.get(sequence=sequence), pain=pain, bp=bp)
    html = text(logged_in(desk).get(url("course-detail", practice, pk=course.pk)))
    assert "3 of 10 done" in html
    svgs = re.findall(r"<svg viewBox.*?</svg>", html, re.S)
    assert len(svgs) == 2
    pain_chart, bp_chart = svgs
    assert "Pain before and after" in pain_chart
    # Three points per pain line (every completed session), two per blood pressure line.
    assert pain_chart.count('class="dot before"') == 3
    assert pain_chart.count('class="dot after"') == 3
    assert bp_chart.count('class="dot before"') == 2
    assert 'role="img"' in pain_chart
    # The values are in the table too, so the chart is never the only way to read them.
    assert "7 → 4" in html
    assert re.search(r"150/95\s*→ 140/90", html)


def test_the_course_page_without_completed_sessions_has_no_chart(
    practice, desk, ann, therapist
) -> None:
    course = CourseFactory(practice=practice, patient=ann, therapist=therapist)
    html = text(logged_in(desk).get(url("course-detail", practice, pk=course.pk)))
    assert "No completed session yet." in html
    assert "<svg viewBox" not in html
    assert html.count("status-row status-booked") == 10


def test_a_cancelled_course_session_links_to_rebooking(practice, desk, ann, therapist) -> None:
    course = CourseFactory(practice=practice, patient=ann, therapist=therapist)
    second = course.sessions.get(sequence=2)
    second.status = SessionStatus.CANCELLED
    second.late_cancellation = True
    second.save()
    html = text(logged_in(desk).get(url("course-detail", practice, pk=course.pk)))
    assert (
        reverse(
            "sessions:session-cancelled",
            kwargs={"practice_slug": practice.slug, "pk": second.pk},
        )
        in html
    )
    assert "late cancellation" in html


def test_the_course_page_reads_a_constant_number_of_queries(
    practice, desk, ann, therapist, django_assert_num_queries
) -> None:
    few = CourseFactory(practice=practice, patient=ann, therapist=therapist, booked=2)
    many = CourseFactory(practice=practice, booked=10)
    for sequence in (1, 2):
        _complete(few.sessions.get(sequence=sequence), pain=(5, 3), bp=(130, 85))
        _complete(many.sessions.get(sequence=sequence), pain=(5, 3), bp=(130, 85))
    client = logged_in(desk)
    with CaptureQueriesContext(connection) as queries:
        client.get(url("course-detail", practice, pk=few.pk))
    with django_assert_num_queries(len(queries)):
        client.get(url("course-detail", practice, pk=many.pk))
