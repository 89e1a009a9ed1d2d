"""A patient's right to erasure: identity gone everywhere, retained records still add up
until the retention ends, then purged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from patients.erasure import patient_erase
from patients.models import Patient, Screening
from patients.tasks import purge_erased_patients
from practice.audit.models import Action, AuditEntry
from practice.models import Practice, Role, User
from sessions.models import Session, SessionRecord
from tests.factories import CourseFactory, PatientFactory
from tests.pages import logged_in
from tests.patients.rich_patient import IDENTITY, rich_patient

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")


@pytest.fixture(autouse=True)
def _media(tmp_path: Path) -> Iterator[None]:
    with override_settings(MEDIA_ROOT=tmp_path):
        yield


def where_found(value: str) -> list[str]:
    """Every table.column of the database whose text holds `value` (any case)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = ANY(%s)",
            [list(TEXT_TYPES)],
        )
        columns = cursor.fetchall()
        found = []
        for table, column in columns:
            cursor.execute(
                f'SELECT 1 FROM "{table}" WHERE "{column}"::text ILIKE %s LIMIT 1',
                [f"%{value}%"],
            )
            if cursor.fetchone():
                found.append(f"{table}.{column}")
    return found


def identity_values(patient: Patient) -> list[str]:
    assert patient.user is not None
    return [
        IDENTITY["given_name"],
        IDENTITY["family_name"],
        IDENTITY["email"],
        IDENTITY["phone"],
        IDENTITY["emergency_contact_name"],
        IDENTITY["emergency_contact_phone"],
        IDENTITY["date_of_birth"].isoformat(),
        patient.user.email,
        patient.user.full_name,
    ]


def test_erasure_leaves_the_identity_nowhere_in_the_database(
    practice: Practice, member: Callable[..., User]
) -> None:
    patient = rich_patient(practice)
    manager = member(practice, Role.MANAGER)
    # Through pages and the admin, so the audit trail and the admin's history hold rows too.
    client = logged_in(manager)
    kwargs = {"practice_slug": practice.slug, "pk": patient.pk}
    client.get(reverse("patients:patient-detail", kwargs=kwargs), REMOTE_ADDR="10.9.9.9")
    client.post(
        f"/admin/patients/patient/{patient.pk}/change/",
        {"given_name": IDENTITY["given_name"]},
    )
    logged_in(patient.user).get(
        reverse("patients:portal", kwargs={"practice_slug": practice.slug}),
        REMOTE_ADDR="192.0.2.77",
        HTTP_USER_AGENT="PatientPhone/9",
    )
    old = identity_values(patient)
    assert where_found(IDENTITY["family_name"])  # the search finds what is there
    assert where_found("PatientPhone/9") == ["audit_auditentry.user_agent"]
    sessions, screenings = Session.objects.count(), Screening.objects.count()
    records = SessionRecord.objects.count()

    response = client.post(reverse("patients:patient-erase", kwargs=kwargs))

    assert response.status_code == 302
    for value in old:
        assert where_found(value) == [], value
    assert where_found("PatientPhone/9") == []
    assert not AuditEntry.objects.filter(ip="192.0.2.77").exists()
    # The records the practice must keep are all still there, on the anonymous record.
    assert Session.objects.filter(patient=patient).count() == sessions
    assert Screening.objects.filter(patient=patient).count() == screenings
    assert SessionRecord.objects.count() == records
    erased = Patient.objects.get(pk=patient.pk)
    assert erased.erased_at is not None
    assert erased.user is None
    assert erased.date_of_birth.year == IDENTITY["date_of_birth"].year
    [erasure] = AuditEntry.objects.filter(action=Action.ERASURE)
    assert (erasure.patient_id, erasure.user_id) == (patient.pk, manager.pk)
    assert not User.objects.get(pk=patient.user_id).is_active


def test_only_managers_erase(practice: Practice, member: Callable[..., User]) -> None:
    patient = PatientFactory(practice=practice)
    url = reverse(
        "patients:patient-erase", kwargs={"practice_slug": practice.slug, "pk": patient.pk}
    )
    assert logged_in(member(practice, Role.FRONT_DESK)).post(url).status_code == 403
    assert logged_in(member(practice, Role.THERAPIST)).post(url).status_code == 403
    assert Patient.objects.get(pk=patient.pk).erased_at is None


def test_a_manager_of_another_practice_cannot_erase(
    practice: Practice, other_practice: Practice, member: Callable[..., User]
) -> None:
    patient = PatientFactory(practice=practice)
    foreign = logged_in(member(other_practice, Role.MANAGER))
    url = reverse(
        "patients:patient-erase", kwargs={"practice_slug": other_practice.slug, "pk": patient.pk}
    )
    assert foreign.post(url).status_code == 404
    assert Patient.objects.get(pk=patient.pk).erased_at is None


def test_erasing_twice_is_refused_with_a_message(
    practice: Practice, member: Callable[..., User]
) -> None:
    patient = PatientFactory(practice=practice)
    patient_erase(patient=patient, now=timezone.now())
    url = reverse(
        "patients:patient-erase", kwargs={"practice_slug": practice.slug, "pk": patient.pk}
    )
    response = logged_in(member(practice, Role.MANAGER)).post(url)
    assert response.status_code == 409
    assert "erased already" in response.content.decode()


def test_a_shared_account_is_only_unlinked(
    practice: Practice, other_practice: Practice, member: Callable[..., User]
) -> None:
    user = member(practice, Role.PATIENT)
    member_elsewhere = user.memberships.create(practice=other_practice, role=Role.PATIENT)
    patient = PatientFactory(practice=practice, user=user)
    patient_erase(patient=patient, now=timezone.now())
    user.refresh_from_db()
    assert user.is_active
    assert list(user.memberships.all()) == [member_elsewhere]


def test_retained_records_are_purged_by_the_beat_task_after_the_retention(
    practice: Practice,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    patient = rich_patient(practice, billed=False)
    kept = PatientFactory(practice=practice)
    CourseFactory(patient=kept)
    patient_erase(patient=patient, now=timezone.now())
    clock.shift(timedelta(days=5 * 366))
    assert purge_erased_patients() == 0
    assert Patient.objects.filter(pk=patient.pk).exists()
    clock.shift(timedelta(days=366))
    assert purge_erased_patients() == 1
    assert not Patient.objects.filter(pk=patient.pk).exists()
    assert not Session.objects.filter(patient_id=patient.pk).exists()
    assert Session.objects.filter(patient=kept).exists()


def test_an_erased_patient_with_issued_invoices_is_kept_anonymised_after_the_retention(
    practice: Practice,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    patient = rich_patient(practice)
    patient_erase(patient=patient, now=timezone.now())
    clock.shift(timedelta(days=7 * 366))
    # Issued invoices are the practice's to keep (accounting law): so is what they refer to.
    assert purge_erased_patients() == 0
    kept = Patient.objects.get(pk=patient.pk)
    assert (kept.given_name, kept.email) != (IDENTITY["given_name"], IDENTITY["email"])
    assert Session.objects.filter(patient_id=patient.pk).exists()
