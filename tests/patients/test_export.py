"""A patient's right of access: every record that belongs to them, as JSON and as a page."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from django.test import override_settings
from django.urls import reverse

from patients.export import patient_export
from patients.models import Patient
from practice.audit.models import Action, AuditEntry
from practice.models import Practice, Role, User
from tests.factories import CourseFactory, PatientFactory
from tests.pages import logged_in
from tests.patients.rich_patient import IDENTITY, rich_patient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(tmp_path: Path) -> object:
    with override_settings(MEDIA_ROOT=tmp_path):
        yield


def models_referencing_patient() -> set[type[models.Model]]:
    """Walked here independently of the export: every model with any relation (foreign key,
    one-to-one, many-to-many) leading to Patient, directly or through other models."""
    reaching: set[type[models.Model]] = {Patient}
    grew = True
    while grew:
        grew = False
        for model in apps.get_models():
            if model in reaching:
                continue
            if any(
                field.is_relation and not field.auto_created and field.related_model in reaching
                for field in model._meta.get_fields()
            ):
                reaching.add(model)
                grew = True
    return reaching


def test_the_export_holds_every_model_that_references_the_patient(practice: Practice) -> None:
    patient = rich_patient(practice)
    other = PatientFactory(practice=practice)
    CourseFactory(patient=other)
    exported = patient_export(patient=patient)["records"]
    walked = {model._meta.label_lower for model in models_referencing_patient()}
    assert walked - set(exported) == set()
    # The patient's fixture has rows of every kind but the practice-wide alert: all exported.
    assert {label for label, rows in exported.items() if not rows} <= {
        "therapy_sessions.reminderfailurealert"
    }
    assert [row["id"] for row in exported["patients.patient"]] == [patient.pk]
    assert all(row["patient"] == patient.pk for row in exported["therapy_sessions.session"])


def test_a_manager_downloads_the_json_and_reads_the_page_each_audited(
    practice: Practice, member: Callable[..., User]
) -> None:
    patient = rich_patient(practice)
    client = logged_in(member(practice, Role.MANAGER))
    url = reverse(
        "patients:patient-export", kwargs={"practice_slug": practice.slug, "pk": patient.pk}
    )
    download = client.get(url, {"format": "json"})
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    data = json.loads(download.content)
    assert data["records"]["patients.patient"][0]["family_name"] == IDENTITY["family_name"]
    assert "password" not in data["account"][0]
    page = client.get(url)
    assert page.status_code == 200
    assert IDENTITY["family_name"] in page.content.decode()
    assert AuditEntry.objects.filter(action=Action.EXPORT, patient_id=patient.pk).count() == 2


def test_only_managers_export_from_the_record(
    practice: Practice, other_practice: Practice, member: Callable[..., User]
) -> None:
    patient = PatientFactory(practice=practice)
    kwargs = {"practice_slug": practice.slug, "pk": patient.pk}
    url = reverse("patients:patient-export", kwargs=kwargs)
    assert logged_in(member(practice, Role.FRONT_DESK)).get(url).status_code == 403
    foreign_manager = logged_in(member(other_practice, Role.MANAGER))
    other_url = reverse(
        "patients:patient-export", kwargs={"practice_slug": other_practice.slug, "pk": patient.pk}
    )
    assert foreign_manager.get(other_url).status_code == 404
    assert not AuditEntry.objects.filter(action=Action.EXPORT).exists()


def test_the_patient_exports_their_own_data_in_the_portal(practice: Practice) -> None:
    patient = rich_patient(practice)
    other = PatientFactory(practice=practice)
    client = logged_in(patient.user)
    url = reverse("patients:portal-export", kwargs={"practice_slug": practice.slug})
    data = client.get(url, {"format": "json"}).json()
    assert data["patient"] == patient.pk
    assert {row["id"] for row in data["records"]["patients.patient"]} == {patient.pk}
    assert other.family_name not in json.dumps(data)
    assert client.get(url).status_code == 200
    [export, _page] = AuditEntry.objects.filter(action=Action.EXPORT).order_by("id")
    assert (export.user_id, export.patient_id) == (patient.user_id, patient.pk)


def test_a_patient_without_a_record_gets_a_404_in_the_portal(
    practice: Practice, member: Callable[..., User]
) -> None:
    client = logged_in(member(practice, Role.PATIENT))
    url = reverse("patients:portal-export", kwargs={"practice_slug": practice.slug})
    assert client.get(url).status_code == 404
