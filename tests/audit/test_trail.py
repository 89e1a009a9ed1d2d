"""The audit trail: writes captured by the database, reads recorded once, entries append-only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import override_settings
from django.urls import reverse

from practice.audit.context import Actor, acting
from practice.audit.models import Action, AuditEntry
from practice.audit.services import record_read
from practice.models import Practice, Role, User
from tests.factories import (
    CourseFactory,
    PatientFactory,
    ScreeningFactory,
    SessionRecordFactory,
)
from tests.pages import logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def entries(**filters: object) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**filters).order_by("id"))


def test_a_write_is_captured_by_the_database_with_changed_field_names(practice: Practice) -> None:
    patient = PatientFactory(practice=practice, given_name="Anna")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE patients_patient SET notes = 'sore neck', archived = true WHERE id = %s",
            [patient.pk],
        )
    [created] = entries(model="patients.patient", action=Action.CREATE)
    [changed] = entries(model="patients.patient", action=Action.UPDATE)
    assert created.practice_id == practice.pk
    assert created.patient_id == patient.pk
    assert "given_name" in created.fields
    assert sorted(changed.fields) == ["archived", "notes"]
    # Health data and identity never leave their table: only allowed values are kept.
    assert changed.values == {"archived": True}
    assert "Anna" not in str(created.values)
    assert changed.user_id is None  # raw SQL from no request: captured all the same


def test_a_page_write_names_its_user_ip_and_user_agent(
    practice: Practice, member: Callable[..., User]
) -> None:
    desk = member(practice, Role.FRONT_DESK)
    patient = PatientFactory(practice=practice)
    client = logged_in(desk)
    url = reverse(
        "patients:patient-archive", kwargs={"practice_slug": practice.slug, "pk": patient.pk}
    )
    client.post(url, HTTP_USER_AGENT="TestBrowser/1.0", REMOTE_ADDR="10.1.2.3")
    [changed] = entries(model="patients.patient", action=Action.UPDATE)
    assert changed.user_id == desk.pk
    assert changed.ip == "10.1.2.3"
    assert changed.user_agent == "TestBrowser/1.0"
    assert "archived" in changed.fields


def test_reading_a_patient_record_page_writes_exactly_one_entry(
    practice: Practice, member: Callable[..., User]
) -> None:
    desk = member(practice, Role.FRONT_DESK)
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient)
    url = reverse(
        "patients:patient-detail", kwargs={"practice_slug": practice.slug, "pk": patient.pk}
    )
    assert logged_in(desk).get(url).status_code == 200
    [read] = entries(action=Action.READ)
    assert (read.model, read.object_id, read.patient_id) == (
        "patients.patient",
        str(patient.pk),
        patient.pk,
    )
    assert (read.user_id, read.practice_id) == (desk.pk, practice.pk)


def test_reading_a_patient_through_the_api_writes_exactly_one_entry(
    practice: Practice, member: Callable[..., User], api_as: Callable[..., object]
) -> None:
    desk = member(practice, Role.FRONT_DESK)
    patient = PatientFactory(practice=practice)
    response = api_as(desk).get(f"/api/v1/patients/{patient.pk}/")  # type: ignore[attr-defined]
    assert response.status_code == 200
    [read] = entries(action=Action.READ)
    assert (read.patient_id, read.user_id, read.practice_id) == (patient.pk, desk.pk, practice.pk)


def test_reading_a_screening_through_the_api_writes_exactly_one_entry(
    practice: Practice, member: Callable[..., User], api_as: Callable[..., object]
) -> None:
    desk = member(practice, Role.FRONT_DESK)
    patient = PatientFactory(practice=practice)
    screening = ScreeningFactory(patient=patient)
    url = f"/api/v1/patients/{patient.pk}/screenings/{screening.pk}/"
    assert api_as(desk).get(url).status_code == 200  # type: ignore[attr-defined]
    [read] = entries(action=Action.READ)
    assert (read.model, read.patient_id) == ("patients.screening", patient.pk)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_auditentry SET reason = 'tampered'", "DELETE FROM audit_auditentry"],
)
def test_raw_sql_cannot_change_or_delete_an_entry(practice: Practice, statement: str) -> None:
    PatientFactory(practice=practice)
    assert AuditEntry.objects.exists()
    with (
        pytest.raises(DatabaseError, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert not AuditEntry.objects.filter(reason="tampered").exists()


def test_reading_a_session_page_writes_exactly_one_entry(
    practice: Practice, member: Callable[..., User]
) -> None:
    desk = member(practice, Role.FRONT_DESK)
    session = SessionRecordFactory(
        practice=practice, session__patient=PatientFactory(practice=practice)
    ).session
    url = reverse(
        "sessions:session-detail", kwargs={"practice_slug": practice.slug, "pk": session.pk}
    )
    assert logged_in(desk).get(url).status_code == 200
    [read] = entries(action=Action.READ)
    assert (read.model, read.object_id, read.patient_id) == (
        "therapy_sessions.session",
        str(session.pk),
        session.patient_id,
    )


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_behind_a_proxy_the_forwarded_address_is_kept_and_junk_is_not(
    practice: Practice, member: Callable[..., User]
) -> None:
    desk = member(practice, Role.FRONT_DESK)
    patient = PatientFactory(practice=practice)
    url = reverse(
        "patients:patient-detail", kwargs={"practice_slug": practice.slug, "pk": patient.pk}
    )
    client = logged_in(desk)
    client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9")
    client.get(url, HTTP_X_FORWARDED_FOR="not-an-address")
    assert [entry.ip for entry in entries(action=Action.READ)] == ["203.0.113.9", None]


def test_reading_a_course_through_the_page_and_the_api_writes_one_entry_each(
    practice: Practice, member: Callable[..., User], api_as: Callable[..., object]
) -> None:
    desk = member(practice, Role.FRONT_DESK)
    course = CourseFactory(patient=PatientFactory(practice=practice))
    page = reverse(
        "courses:course-detail", kwargs={"practice_slug": practice.slug, "pk": course.pk}
    )
    assert logged_in(desk).get(page).status_code == 200
    assert api_as(desk).get(f"/api/v1/courses/{course.pk}/").status_code == 200  # type: ignore[attr-defined]
    reads = entries(action=Action.READ)
    assert [(read.model, read.patient_id) for read in reads] == [
        ("courses.course", course.patient_id)
    ] * 2


def test_listing_a_patients_screenings_through_the_api_writes_one_entry(
    practice: Practice, member: Callable[..., User], api_as: Callable[..., object]
) -> None:
    desk = member(practice, Role.FRONT_DESK)
    patient = PatientFactory(practice=practice)
    ScreeningFactory.create_batch(3, patient=patient)
    url = f"/api/v1/patients/{patient.pk}/screenings/"
    assert api_as(desk).get(url).status_code == 200  # type: ignore[attr-defined]
    [read] = entries(action=Action.READ)
    assert (read.model, read.patient_id) == ("patients.patient", patient.pk)


@pytest.mark.django_db(transaction=True)
def test_a_read_entry_commits_without_waiting_for_the_disk_but_a_write_waits(
    practice: Practice,
) -> None:
    """Read entries alone commit with `synchronous_commit` off (practice.audit.context); a
    write, a read entry inside a transaction (which may hold writes), and the entries the
    database captures for writes always wait for the flush."""
    patient = PatientFactory(practice=practice)
    sent: list[str] = []

    def spy(execute: Callable[..., object], sql: str, *args: object) -> object:
        sent.append(sql)
        return execute(sql, *args)

    def statements(block: Callable[[], object]) -> list[str]:
        sent.clear()
        # The spy is registered inside the actor's wrapper, so it sees the statements as sent.
        with acting(Actor()), connection.execute_wrapper(spy):
            block()
        return [sql for sql in sent if "INSERT" in sql or "UPDATE" in sql]

    relaxed = "set_config('synchronous_commit', 'off', true)"
    [read] = statements(lambda: record_read(patient, patient_id=patient.pk))
    assert relaxed in read

    def read_in_a_transaction() -> None:
        with transaction.atomic():
            record_read(patient, patient_id=patient.pk)

    [read_inside] = statements(read_in_a_transaction)
    assert relaxed not in read_inside
    patient.notes = "sore neck"
    [write] = statements(lambda: patient.save(update_fields=["notes"]))
    assert "set_config('audit.actor'" in write
    assert relaxed not in write
    assert len(entries(patient_id=patient.pk, action=Action.READ)) == 2
