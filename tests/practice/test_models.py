from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from patients.management.commands.seed_demo import DEMO_PASSWORD
from patients.models import Patient
from practice.catalogue import DEFAULT_MASSAGE_TYPES
from practice.models import MassageType, Practice, Role, Room, Therapist, WorkingHours
from practice.services import massage_types_install_defaults
from tests.factories import RoomFactory, TherapistFactory, WorkingHoursFactory
from tests.second_factor import code_for_secret

pytestmark = pytest.mark.django_db


def test_a_new_practice_gets_its_own_massage_type_catalogue(practice, other_practice) -> None:
    ours = MassageType.objects.for_practice(practice)

    assert [t.code for t in ours] == [d.code for d in DEFAULT_MASSAGE_TYPES]
    assert ours.get(code="therapeutic").default_minutes == 30
    ours.filter(code="honey").update(active=False)
    assert MassageType.objects.get(practice=other_practice, code="honey").active


def test_installing_the_defaults_again_keeps_a_practices_edits(practice) -> None:
    MassageType.objects.filter(practice=practice, code="classical").update(default_minutes=40)

    massage_types_install_defaults(practice=practice)

    assert MassageType.objects.for_practice(practice).count() == len(DEFAULT_MASSAGE_TYPES)
    assert MassageType.objects.get(practice=practice, code="classical").default_minutes == 40


def test_a_row_cannot_point_into_another_practice(practice, other_practice) -> None:
    their_therapist = TherapistFactory(practice=other_practice)
    hours = WorkingHours(
        practice=practice, therapist=their_therapist, weekday=0, starts="09:00", ends="12:00"
    )

    with pytest.raises(ValidationError) as error:
        hours.full_clean()

    assert "therapist" in error.value.message_dict


def test_names_are_unique_per_practice_not_across_practices(practice, other_practice) -> None:
    RoomFactory(practice=practice, name="Room 1")
    RoomFactory(practice=other_practice, name="Room 1")

    with pytest.raises(IntegrityError):
        RoomFactory(practice=practice, name="Room 1")


def test_working_hours_must_end_after_they_start(practice) -> None:
    hours = WorkingHoursFactory.build(
        therapist=TherapistFactory(practice=practice),
        practice=practice,
        starts="12:00",
        ends="09:00",
    )

    with pytest.raises(ValidationError) as error:
        hours.full_clean()

    assert "ends" in error.value.message_dict


def test_seed_demo_loads_two_practices_and_is_idempotent(capsys) -> None:
    call_command("seed_demo")
    call_command("seed_demo")

    linden = Practice.objects.get(slug="linden")
    assert Practice.objects.count() == 2
    assert Therapist.objects.for_practice(linden).count() == 3
    assert Room.objects.for_practice(linden).count() == 3
    assert WorkingHours.objects.for_practice(linden).count() == 3 * 5 * 2
    assert Patient.objects.for_practice(linden).count() == 20
    assert linden.settings.time_zone == "Europe/Berlin"
    assert Practice.objects.get(slug="harbour").settings.time_zone == "America/New_York"
    output = capsys.readouterr().out
    assert "manager@linden.example" in output
    assert "patient@linden.example" in output


def test_seed_demo_managers_sign_in_with_the_printed_authenticator_key(capsys) -> None:
    call_command("seed_demo")
    key = re.search(r"authenticator key ([A-Z2-7]+)", capsys.readouterr().out)
    assert key is not None
    client = Client()
    client.post(reverse("login"), {"username": "manager@linden.example", "password": DEMO_PASSWORD})

    response = client.post(reverse("second-factor-verify"), {"code": code_for_secret(key.group(1))})

    assert response.status_code == 302
    assert client.get("/p/linden/patients/").status_code == 200


def test_seed_demo_links_to_the_port_the_server_runs_on(capsys) -> None:
    # `make run` passes where bin/dev-server will listen: PORT=8765 make run links there.
    call_command("seed_demo", url="http://127.0.0.1:8765")

    output = capsys.readouterr().out
    assert "Admin: http://127.0.0.1:8765/admin/" in output
    assert "API docs: http://127.0.0.1:8765/api/docs/" in output
    assert ":8000" not in output


def test_the_russian_catalogue_translates_our_strings() -> None:
    with translation.override("ru"):
        assert str(Role.THERAPIST.label) == "Массажист"
        assert str(MassageType._meta.verbose_name_plural) == "виды массажа"
    with translation.override("en"):
        assert str(Role.THERAPIST.label) == "Therapist"


def test_pages_follow_the_browsers_language(manager_client) -> None:
    russian = manager_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    english = manager_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Управление" in russian
    assert "Back office" in english
