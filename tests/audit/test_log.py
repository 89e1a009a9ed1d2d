"""Managers read the audit trail: pages, API and admin, their own practice only; the
retention purge is the only deletion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from practice.audit.models import Action, AuditEntry
from practice.audit.services import purge_expired_entries
from practice.audit.tasks import purge_expired_audit_entries
from practice.models import Practice, PracticeSettings, Role, User
from tests.factories import PatientFactory
from tests.pages import logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ENTRIES = "/api/v1/audit-entries/"


def log_url(practice: Practice) -> str:
    return reverse("audit:practice-log", kwargs={"practice_slug": practice.slug})


def test_a_manager_sees_the_practice_log_filtered_by_user_and_action(
    practice: Practice, member: Callable[..., User]
) -> None:
    manager = member(practice, Role.MANAGER)
    desk = member(practice, Role.FRONT_DESK)
    patient = PatientFactory(practice=practice)
    detail = reverse(
        "patients:patient-detail", kwargs={"practice_slug": practice.slug, "pk": patient.pk}
    )
    logged_in(desk).get(detail)
    client = logged_in(manager)
    page = client.get(log_url(practice), {"user": desk.pk, "action": "read"})
    assert page.status_code == 200
    assert desk.email in page.content.decode()
    assert page.context["page"].paginator.count == 1
    nothing = client.get(log_url(practice), {"user": manager.pk, "action": "read"})
    assert nothing.context["page"].paginator.count == 0


def test_the_log_refuses_a_date_range_that_ends_before_it_starts(
    practice: Practice, member: Callable[..., User]
) -> None:
    client = logged_in(member(practice, Role.MANAGER))
    page = client.get(log_url(practice), {"since": "2026-05-02", "until": "2026-05-01"})
    assert page.status_code == 400
    assert "before the first" in page.content.decode()


def test_only_managers_open_the_log(practice: Practice, member: Callable[..., User]) -> None:
    assert logged_in(member(practice, Role.FRONT_DESK)).get(log_url(practice)).status_code == 403


def test_a_manager_never_sees_another_practices_entries(
    practice: Practice,
    other_practice: Practice,
    member: Callable[..., User],
    api_as: Callable[..., object],
) -> None:
    manager = member(practice, Role.MANAGER)
    PatientFactory(practice=practice)
    foreign = PatientFactory(practice=other_practice)
    client = logged_in(manager)
    assert client.get(log_url(other_practice)).status_code == 404
    page = client.get(log_url(practice))
    assert all(entry.practice_id == practice.pk for entry in page.context["page"].object_list)
    listed = api_as(manager).get(ENTRIES).json()["results"]  # type: ignore[attr-defined]
    foreign_ids = set(
        AuditEntry.objects.filter(practice=other_practice).values_list("id", flat=True)
    )
    assert listed
    assert foreign_ids
    assert not {entry["id"] for entry in listed} & foreign_ids
    assert not any(
        entry["model"] == "patients.patient" and entry["object_id"] == str(foreign.pk)
        for entry in listed
    )
    access = reverse(
        "patients:patient-access", kwargs={"practice_slug": practice.slug, "pk": foreign.pk}
    )
    assert client.get(access).status_code == 404


def test_the_api_lists_entries_for_managers_only_with_filters(
    practice: Practice, member: Callable[..., User], api_as: Callable[..., object]
) -> None:
    manager = member(practice, Role.MANAGER)
    desk = member(practice, Role.FRONT_DESK)
    patient = PatientFactory(practice=practice)
    api_as(desk).get(f"/api/v1/patients/{patient.pk}/")  # type: ignore[attr-defined]
    assert api_as(desk).get(ENTRIES).status_code == 403  # type: ignore[attr-defined]
    reads = api_as(manager).get(  # type: ignore[attr-defined]
        ENTRIES, {"action": "read", "patient": patient.pk}
    )
    assert reads.status_code == 200
    [read] = reads.json()["results"]
    assert (read["user"], read["model"]) == (desk.pk, "patients.patient")
    bad = api_as(manager).get(  # type: ignore[attr-defined]
        ENTRIES, {"since": "2026-05-02", "until": "2026-05-01"}
    )
    assert bad.status_code == 400
    assert "until" in bad.json()["errors"]


def test_the_entry_list_has_constant_queries(
    practice: Practice,
    member: Callable[..., User],
    api_as: Callable[..., object],
) -> None:
    manager = member(practice, Role.MANAGER)
    client = api_as(manager)
    PatientFactory(practice=practice)
    client.get(ENTRIES)  # type: ignore[attr-defined]
    with CaptureQueriesContext(connection) as one:
        client.get(ENTRIES)  # type: ignore[attr-defined]
    PatientFactory.create_batch(5, practice=practice)
    with CaptureQueriesContext(connection) as many:
        client.get(ENTRIES)  # type: ignore[attr-defined]
    assert len(many) == len(one)


def test_a_patients_access_history_page_lists_who_read_the_record(
    practice: Practice, member: Callable[..., User]
) -> None:
    manager = member(practice, Role.MANAGER)
    desk = member(practice, Role.FRONT_DESK)
    patient = PatientFactory(practice=practice)
    kwargs = {"practice_slug": practice.slug, "pk": patient.pk}
    logged_in(desk).get(reverse("patients:patient-detail", kwargs=kwargs))
    page = logged_in(manager).get(reverse("patients:patient-access", kwargs=kwargs))
    assert page.status_code == 200
    assert desk.email in page.content.decode()
    assert {entry.action for entry in page.context["page"].object_list} >= {"read", "create"}
    assert logged_in(desk).get(reverse("patients:patient-access", kwargs=kwargs)).status_code == 403


def test_a_write_through_the_admin_is_audited_with_its_user(
    practice: Practice, member: Callable[..., User]
) -> None:
    manager = member(practice, Role.MANAGER)
    patient = PatientFactory(practice=practice)
    client = logged_in(manager)
    client.post("/admin/patients/patient/", {"action": "archive", "_selected_action": [patient.pk]})
    [changed] = AuditEntry.objects.filter(model="patients.patient", action=Action.UPDATE)
    assert changed.user_id == manager.pk
    assert "archived" in changed.fields


def test_the_admin_shows_entries_read_only(practice: Practice, member: Callable[..., User]) -> None:
    client = logged_in(member(practice, Role.MANAGER))
    PatientFactory(practice=practice)
    entry = AuditEntry.objects.filter(practice=practice).first()
    assert entry is not None
    assert client.get("/admin/audit/auditentry/").status_code == 200
    change = client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    assert client.get("/admin/audit/auditentry/add/").status_code == 403


def test_the_purge_deletes_only_entries_past_the_practices_retention(
    practice: Practice, other_practice: Practice
) -> None:
    PracticeSettings.objects.filter(practice=other_practice).update(retention_years=10)
    PatientFactory(practice=practice)
    PatientFactory(practice=other_practice)
    kept = set(AuditEntry.objects.values_list("id", flat=True))
    seven_years_on = timezone.now() + timedelta(days=7 * 366)
    assert purge_expired_entries(now=timezone.now()) == 0
    purged = purge_expired_entries(now=seven_years_on)
    assert purged == len(kept) - AuditEntry.objects.count() > 0
    left = set(AuditEntry.objects.values_list("practice_id", flat=True))
    assert practice.pk not in left
    assert other_practice.pk in left
    assert kept > set(AuditEntry.objects.values_list("id", flat=True))


def test_the_beat_task_runs_the_purge(practice: Practice, clock) -> None:  # type: ignore[no-untyped-def]
    PatientFactory(practice=practice)
    clock.shift(timedelta(days=7 * 366))
    assert purge_expired_audit_entries() > 0
    assert not AuditEntry.objects.filter(practice=practice).exists()


def test_the_api_takes_the_first_and_last_days_a_date_can_name(
    practice: Practice, member: Callable[..., User], api_as: Callable[..., object]
) -> None:
    PatientFactory(practice=practice)
    client = api_as(member(practice, Role.MANAGER))
    response = client.get(ENTRIES, {"since": "0001-01-01", "until": "9999-12-31"})  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert response.json()["results"]
