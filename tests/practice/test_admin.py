from __future__ import annotations

import pytest
from django.urls import reverse

from practice.models import MassageType, Role, Room, Therapist
from tests.factories import (
    PASSWORD,
    ClosureFactory,
    RoomFactory,
    TherapistFactory,
    UserFactory,
    WorkingHoursFactory,
)
from tests.pages import logged_in
from tests.second_factor import authenticator, code_now

pytestmark = pytest.mark.django_db

ADMIN_MODELS = [
    "practice_practice",
    "practice_membership",
    "practice_massagetype",
    "practice_therapist",
    "practice_room",
    "practice_workinghours",
    "practice_closure",
    "practice_timeoff",
    "practice_staffinvitation",
]
# Practices are created by superusers, memberships by accepting an invitation.
NOT_ADDED_BY_MANAGERS = {"practice_practice", "practice_membership"}


def test_it_loads_every_admin_page_for_a_manager(manager_client, practice) -> None:
    therapist = TherapistFactory(practice=practice)
    WorkingHoursFactory(therapist=therapist)

    assert manager_client.get(reverse("admin:index")).status_code == 200
    for model in ADMIN_MODELS:
        assert manager_client.get(reverse(f"admin:{model}_changelist")).status_code == 200, model
    for model in set(ADMIN_MODELS) - NOT_ADDED_BY_MANAGERS:
        assert manager_client.get(reverse(f"admin:{model}_add")).status_code == 200, model
    assert (
        manager_client.get(
            reverse("admin:practice_therapist_change", args=[therapist.pk])
        ).status_code
        == 200
    )
    assert (
        manager_client.get(
            reverse("admin:practice_practice_change", args=[practice.pk])
        ).status_code
        == 200
    )


@pytest.mark.parametrize("role", [Role.PATIENT, Role.THERAPIST, Role.FRONT_DESK])
def test_it_refuses_the_admin_to_anyone_but_managers(practice, member, role) -> None:
    client = logged_in(member(practice, role))

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    assert client.get(reverse("admin:practice_room_changelist")).status_code == 302


def test_a_patient_cannot_log_in_to_the_admin(client, practice, member) -> None:
    user = member(practice, Role.PATIENT, email="pat@example.com")

    response = client.post(reverse("admin:login"), {"username": user.email, "password": PASSWORD})

    assert response.status_code == 200
    assert "practice manager" in response.content.decode()


def test_a_manager_logs_in_without_the_staff_flag(client, practice, member) -> None:
    user = member(practice, Role.MANAGER, email="boss@example.com")
    device = authenticator(user)
    assert not user.is_staff

    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    client.post(reverse("second-factor-verify"), {"code": code_now(device)})

    assert client.get(reverse("admin:index")).status_code == 200


def test_a_manager_of_practice_a_sees_nothing_of_practice_b(
    manager_client, practice, other_practice
) -> None:
    RoomFactory(practice=practice, name="Ours")
    theirs = RoomFactory(practice=other_practice, name="Theirs")
    their_therapist = TherapistFactory(practice=other_practice, name="Their Therapist")
    ClosureFactory(
        practice=other_practice,
        reason="Their holiday",
        starts_at="2026-12-24T00:00Z",
        ends_at="2026-12-27T00:00Z",
    )

    rooms = manager_client.get(reverse("admin:practice_room_changelist")).content.decode()
    therapists = manager_client.get(reverse("admin:practice_therapist_changelist")).content.decode()
    closures = manager_client.get(reverse("admin:practice_closure_changelist")).content.decode()
    practices = manager_client.get(reverse("admin:practice_practice_changelist")).content.decode()

    assert "Ours" in rooms
    assert "Theirs" not in rooms
    assert "Their Therapist" not in therapists
    assert "Their holiday" not in closures
    assert "Harbour" not in practices
    change_theirs = manager_client.get(reverse("admin:practice_room_change", args=[theirs.pk]))
    assert change_theirs.status_code == 302  # "does not exist" redirect, nothing shown
    assert (
        manager_client.get(
            reverse("admin:practice_therapist_change", args=[their_therapist.pk])
        ).status_code
        == 302
    )
    assert (
        manager_client.get(
            reverse("admin:practice_practice_change", args=[other_practice.pk])
        ).status_code
        == 302
    )


def test_a_manager_cannot_link_rows_to_another_practice(
    manager_client, practice, other_practice
) -> None:
    their_therapist = TherapistFactory(practice=other_practice)

    response = manager_client.post(
        reverse("admin:practice_workinghours_add"),
        {
            "practice": practice.pk,
            "therapist": their_therapist.pk,
            "weekday": 0,
            "starts": "09:00",
            "ends": "12:00",
        },
    )

    assert response.status_code == 200  # the form comes back with errors
    assert "Select a valid choice" in response.content.decode()
    assert not their_therapist.working_hours.exists()


def test_a_manager_adds_a_therapist_with_hours_inline(manager_client, practice) -> None:
    classical = MassageType.objects.get(practice=practice, code="classical")

    response = manager_client.post(
        reverse("admin:practice_therapist_add"),
        {
            "practice": practice.pk,
            "name": "New Therapist",
            "massage_types": [classical.pk],
            "colour": "#112233",
            "active": "on",
            "working_hours-TOTAL_FORMS": 1,
            "working_hours-INITIAL_FORMS": 0,
            "working_hours-0-weekday": 2,
            "working_hours-0-starts": "09:00",
            "working_hours-0-ends": "13:00",
            "time_off-TOTAL_FORMS": 0,
            "time_off-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    therapist = Therapist.objects.get(name="New Therapist")
    assert therapist.practice == practice
    hours = therapist.working_hours.get()
    assert hours.practice == practice
    assert (hours.weekday, str(hours.starts)) == (2, "09:00:00")


def test_a_superuser_sees_every_practice(practice, other_practice) -> None:
    client = logged_in(UserFactory(is_superuser=True))
    RoomFactory(practice=practice, name="Ours")
    RoomFactory(practice=other_practice, name="Theirs")

    rooms = client.get(reverse("admin:practice_room_changelist")).content.decode()

    assert "Ours" in rooms
    assert "Theirs" in rooms
    assert Room.objects.count() == 2


def test_times_are_shown_in_the_practices_time_zone(manager_client, practice) -> None:
    ClosureFactory(
        practice=practice,
        reason="Staff day",
        starts_at="2026-12-24T08:00Z",
        ends_at="2026-12-24T16:00Z",
    )

    page = manager_client.get(reverse("admin:practice_closure_changelist")).content.decode()

    assert "Dec. 24, 2026, 9 a.m." in page  # 08:00 UTC is 09:00 in Berlin
    assert "5 p.m." in page


def test_api_catalogue_details_are_edited_in_the_admin(manager_client, practice) -> None:
    kind = MassageType.objects.get(practice=practice, code="classical")
    therapist = TherapistFactory(practice=practice)

    type_form = manager_client.get(reverse("admin:practice_massagetype_change", args=[kind.pk]))
    therapist_form = manager_client.get(
        reverse("admin:practice_therapist_change", args=[therapist.pk])
    )
    practice_form = manager_client.get(
        reverse("admin:practice_practice_change", args=[practice.pk])
    )

    # Prices are rows of the price list, with their own history (`practice.prices`).
    price_form = manager_client.get(reverse("admin:practice_price_add"))
    assert 'name="massage_type"' in price_form.content.decode()
    assert 'name="valid_from_0"' in price_form.content.decode()
    assert 'name="online_bookable"' in type_form.content.decode()
    assert 'name="photo_url"' in therapist_form.content.decode()
    for field in ("address", "phone", "currency"):
        assert f'name="settings-0-{field}"' in practice_form.content.decode(), field


def change_form_data(response) -> dict[str, object]:
    """What the admin's change form would post back unchanged, its inlines included."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, object] = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


@pytest.mark.parametrize(
    ("sender", "saved"),
    [("Linden Spa", True), ("+491511234567", True), ("Linden Spa Ltd", False), ("<b>", False)],
)
def test_r21_a_manager_sets_the_practices_sms_sender_id(
    manager_client, practice, sender: str, saved: bool
) -> None:
    url = reverse("admin:practice_practice_change", args=[practice.pk])
    data = change_form_data(manager_client.get(url))
    data["settings-0-sms_sender"] = sender

    response = manager_client.post(url, data)

    practice.settings.refresh_from_db()
    if saved:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert practice.settings.sms_sender == sender
    else:
        assert response.status_code == 200
        [inline] = response.context["inline_admin_formsets"]
        assert "sms_sender" in inline.formset.forms[0].errors
        assert practice.settings.sms_sender == ""
