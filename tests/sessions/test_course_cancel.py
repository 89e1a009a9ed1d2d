"""Cancelling a course as a whole: its sessions still to come are cancelled and none of their
reminders is sent (R22), from the service, the API, the desk's page and the admin alike."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail

from courses.lifecycle import course_complete
from courses.models import CourseStatus
from practice.errors import Conflict
from practice.models import Practice, Role
from sessions.booking.courses import course_cancel
from sessions.models import Reminder, ReminderStatus, SessionStatus
from sessions.reminders.dispatch import reminders_dispatch
from sessions.reminders.messages import ReminderKind
from tests.factories import PatientFactory
from tests.pages import logged_in
from tests.sessions.outbox import NOW, book_course

# The pages and the API read the clock; the course is booked for the days after NOW.
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW)]


def test_cancelling_a_course_cancels_its_sessions_to_come_and_their_reminders(
    practice: Practice,
) -> None:
    course = book_course(practice)
    first = course.sessions.order_by("starts_at").first()
    # The first session is under way when the course is called off: it keeps its state.
    type(first).objects.filter(pk=first.pk).update(status=SessionStatus.IN_PROGRESS)
    pending = Reminder.objects.filter(status=ReminderStatus.PENDING)
    assert pending.filter(session__course=course).exists()

    result = course_cancel(course=course, by=None, reason="Moving abroad", now=NOW)

    assert result.course.status == CourseStatus.CANCELLED
    assert result.sessions_cancelled == course.sessions_count - 1
    statuses = dict(course.sessions.values_list("pk", "status"))
    assert statuses.pop(first.pk) == SessionStatus.IN_PROGRESS
    assert set(statuses.values()) == {SessionStatus.CANCELLED}
    cancelled = course.sessions.filter(status=SessionStatus.CANCELLED)
    assert {s.cancellation_reason for s in cancelled} == {"Moving abroad"}
    assert not any(s.late_cancellation for s in cancelled)
    assert not pending.filter(session__course=course).exists()
    assert not pending.filter(course=course).exclude(kind=ReminderKind.COURSE_CANCELLED).exists()


def test_r22_a_cancelled_course_sends_nothing_but_its_one_cancel_notice(
    practice: Practice,
) -> None:
    course = book_course(practice)
    course_cancel(course=course, by=None, now=NOW)

    # Sweep every day of the course: only the notice goes out (no confirmation, no reminder).
    for day in range(0, 25):
        reminders_dispatch(now=NOW + timedelta(days=day))

    (notice,) = mail.outbox
    assert notice.subject == "Your course of Classical massage is cancelled"
    assert "its 10 sessions still to come" in notice.body
    sent = Reminder.objects.filter(status=ReminderStatus.SENT)
    assert list(sent.values_list("kind", flat=True)) == [ReminderKind.COURSE_CANCELLED]


def test_r21_the_patient_is_told_once_per_channel_when_the_practice_cancels_their_course(
    practice: Practice,
) -> None:
    patient = PatientFactory(practice=practice, consenting=True)
    course = book_course(practice, patient=patient)

    course_cancel(course=course, by=None, now=NOW)

    notices = Reminder.objects.filter(course=course, kind=ReminderKind.COURSE_CANCELLED)
    assert sorted(notices.values_list("channel", flat=True)) == ["email", "sms"]
    assert {n.details["sessions_cancelled"] for n in notices} == {10}


def test_r21_a_course_with_nothing_left_to_cancel_sends_no_notice(practice: Practice) -> None:
    course = book_course(practice)

    course_cancel(course=course, by=None, now=NOW + timedelta(days=60))

    assert not Reminder.objects.filter(kind=ReminderKind.COURSE_CANCELLED).exists()


def test_a_finished_course_cannot_be_cancelled(practice: Practice) -> None:
    course = book_course(practice)
    course_complete(course_id=course.pk, now=NOW)

    with pytest.raises(Conflict) as caught:
        course_cancel(course=course, by=None, now=NOW)

    assert caught.value.body["course_status"] == CourseStatus.COMPLETED
    assert not course.sessions.filter(status=SessionStatus.CANCELLED).exists()


def test_cancelling_twice_is_a_conflict_and_changes_nothing_more(practice: Practice) -> None:
    course = book_course(practice)
    course_cancel(course=course, by=None, now=NOW)

    with pytest.raises(Conflict):
        course_cancel(course=course, by=None, now=NOW)


def test_staff_cancel_a_course_over_the_api(practice: Practice, desk, api_as) -> None:
    course = book_course(practice)

    response = api_as(desk).post(
        f"/api/v1/courses/{course.pk}/cancel/", {"reason": "Patient asked"}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == CourseStatus.CANCELLED
    assert {s["status"] for s in body["sessions"]} == {SessionStatus.CANCELLED}
    again = api_as(desk).post(f"/api/v1/courses/{course.pk}/cancel/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["course_status"] == CourseStatus.CANCELLED


def test_a_patient_cannot_cancel_their_course_over_the_api(
    practice: Practice, member, api_as
) -> None:
    course = book_course(practice)
    user = member(practice, Role.PATIENT)
    course.patient.user = user
    course.patient.save(update_fields=["user"])

    response = api_as(user).post(f"/api/v1/courses/{course.pk}/cancel/", {}, format="json")

    assert response.status_code == 403
    course.refresh_from_db()
    assert course.status == CourseStatus.PLANNED


def test_another_practices_course_is_not_found(
    practice: Practice, other_desk, api_as, client
) -> None:
    course = book_course(practice)

    response = api_as(other_desk).post(f"/api/v1/courses/{course.pk}/cancel/", {}, format="json")

    assert response.status_code == 404
    client.force_login(other_desk)
    page = client.post(f"/p/harbour/courses/{course.pk}/cancel/", {"reason": ""})
    assert page.status_code == 404
    course.refresh_from_db()
    assert course.status == CourseStatus.PLANNED


def test_the_desk_cancels_a_course_from_its_page(practice: Practice, desk, client) -> None:
    course = book_course(practice)
    client.force_login(desk)
    page = client.get(f"/p/linden/courses/{course.pk}/")
    assert "Cancel the course" in page.text
    assert re.search(r"<title>\s*Course\b", page.text)

    response = client.post(f"/p/linden/courses/{course.pk}/cancel/", {"reason": "Injury"})

    assert response.status_code == 302
    assert response["Location"].endswith("?notice=course-cancelled")
    course.refresh_from_db()
    assert course.status == CourseStatus.CANCELLED
    after = client.get(response["Location"])
    assert "The course is cancelled" in after.text
    assert "Cancel the course" not in after.text


def test_the_page_says_why_a_finished_course_is_not_cancelled(
    practice: Practice, desk, client
) -> None:
    course = book_course(practice)
    course_complete(course_id=course.pk, now=NOW)
    client.force_login(desk)

    response = client.post(f"/p/linden/courses/{course.pk}/cancel/", {"reason": ""})

    assert response.status_code == 409
    assert "can no longer be cancelled" in response.text


def test_the_admin_shows_status_read_only_and_cancels_with_an_action(
    practice: Practice, member
) -> None:
    course = book_course(practice)
    client = logged_in(member(practice, Role.MANAGER))
    change = client.get(f"/admin/courses/course/{course.pk}/change/")
    assert change.status_code == 200
    assert 'name="status"' not in change.text

    response = client.post(
        "/admin/courses/course/",
        {"action": "cancel", "_selected_action": [course.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 course cancelled." in response.text
    course.refresh_from_db()
    assert course.status == CourseStatus.CANCELLED
    assert not course.sessions.filter(status=SessionStatus.BOOKED).exists()
