"""A manager resets a member's second factor when they have lost their phone (an action of
the admin's membership list): only for the staff of their own practices, never their own,
always with a reason kept in the audit trail."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice.audit.models import AuditEntry
from practice.models import Membership, RecoveryCode, Role, User
from practice.second_factor import recovery_codes_issue, second_factor_reset
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.pages import logged_in
from tests.second_factor import authenticator

pytestmark = pytest.mark.django_db

MEMBERSHIPS = "/admin/practice/membership/"
PATIENTS = "/p/linden/patients/"


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:
    # Recovery codes are hashed like passwords; PBKDF2 would make each test take seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def boss(practice, member) -> User:
    return member(practice, Role.MANAGER, email="boss@example.com")


def with_second_factor(user: User) -> User:
    authenticator(user)
    recovery_codes_issue(user=user)
    return user


def has_any_factor(user: User) -> bool:
    return (
        TOTPDevice.objects.filter(user=user).exists()
        or RecoveryCode.objects.filter(user=user).exists()
    )


def reset_entries(membership: Membership):
    return AuditEntry.objects.filter(
        model="practice.membership", object_id=str(membership.pk), fields=["second_factor"]
    )


def reset(client: Client, membership: Membership, reason: str | None = "Lost her phone"):
    data: dict[str, object] = {
        "action": "reset_second_factor",
        "_selected_action": [membership.pk],
    }
    if reason is not None:
        data |= {"apply": "1", "reason": reason}
    return client.post(MEMBERSHIPS, data)


def test_a_manager_resets_a_member_of_their_practice_who_sets_it_up_again(
    practice, boss, desk
) -> None:
    practice.settings.staff_second_factor_required = True
    practice.settings.save()
    with_second_factor(desk)
    membership = Membership.objects.get(user=desk)
    client = logged_in(boss)

    asked = reset(client, membership, reason=None)

    assert asked.status_code == 200
    assert "desk@example.com" in asked.content.decode()
    assert has_any_factor(desk)  # only asked for a reason so far

    done = reset(client, membership)

    assert done.status_code == 302
    assert not has_any_factor(desk)
    entry = reset_entries(membership).get()
    assert (entry.user_id, entry.practice_id, entry.reason) == (
        boss.pk,
        practice.pk,
        "Lost her phone",
    )
    desk_client = Client()
    desk_client.post(reverse("login"), {"username": desk.email, "password": PASSWORD})
    assert desk_client.get(PATIENTS)["Location"].startswith(reverse("second-factor-enrol"))


def test_a_reset_manager_must_set_one_up_again(practice, boss, member) -> None:
    colleague = with_second_factor(member(practice, Role.MANAGER, email="co@example.com"))

    reset(logged_in(boss), Membership.objects.get(user=colleague))

    client = Client()
    client.post(reverse("login"), {"username": colleague.email, "password": PASSWORD})
    assert client.get(PATIENTS)["Location"].startswith(reverse("second-factor-enrol"))


def test_a_reset_needs_a_reason(boss, desk) -> None:
    with_second_factor(desk)
    membership = Membership.objects.get(user=desk)

    response = reset(logged_in(boss), membership, reason="  ")

    assert response.status_code == 200
    assert has_any_factor(desk)
    assert not reset_entries(membership).exists()
    with pytest.raises(ValidationError):
        second_factor_reset(membership=membership, by=boss, reason=" ")


def test_a_manager_cannot_reset_a_member_of_another_practice(boss, other_desk) -> None:
    with_second_factor(other_desk)
    theirs = Membership.objects.get(user=other_desk)
    client = logged_in(boss)

    asked = reset(client, theirs, reason=None)
    done = reset(client, theirs)

    assert other_desk.email not in asked.content.decode()
    assert done.status_code == 302
    assert has_any_factor(other_desk)
    assert not reset_entries(theirs).exists()
    with pytest.raises(PermissionDenied):
        second_factor_reset(membership=theirs, by=boss, reason="Lost his phone")
    assert has_any_factor(other_desk)


def test_a_non_manager_cannot_reset_anyone(practice, member, desk) -> None:
    with_second_factor(desk)
    membership = Membership.objects.get(user=desk)
    colleague = member(practice, Role.FRONT_DESK)

    response = reset(logged_in(colleague), membership)

    assert response.status_code == 302  # to the admin's login
    assert response["Location"].startswith(reverse("admin:login"))
    with pytest.raises(PermissionDenied):
        second_factor_reset(membership=membership, by=colleague, reason="Lost her phone")
    assert has_any_factor(desk)


def test_a_manager_cannot_reset_their_own_factor_here(boss) -> None:
    with_second_factor(boss)
    own = Membership.objects.get(user=boss)

    response = reset(logged_in(boss), own)

    assert response.status_code == 302
    assert has_any_factor(boss)
    assert not reset_entries(own).exists()
    with pytest.raises(ValidationError):
        second_factor_reset(membership=own, by=boss, reason="Lost my phone")


def test_a_patients_membership_has_no_factor_to_reset(practice, other_practice, boss) -> None:
    # Someone who manages another practice, and is a patient here.
    manager_elsewhere = with_second_factor(UserFactory())
    MembershipFactory(practice=other_practice, user=manager_elsewhere, role=Role.MANAGER)
    as_patient = MembershipFactory(practice=practice, user=manager_elsewhere, role=Role.PATIENT)

    reset(logged_in(boss), as_patient)

    assert has_any_factor(manager_elsewhere)
    with pytest.raises(ValidationError):
        second_factor_reset(membership=as_patient, by=boss, reason="Lost his phone")


def test_a_superuser_resets_anyone(practice, other_desk) -> None:
    with_second_factor(other_desk)
    theirs = Membership.objects.get(user=other_desk)
    root = UserFactory(is_superuser=True)

    reset(logged_in(root), theirs)

    assert not has_any_factor(other_desk)
    assert reset_entries(theirs).get().user_id == root.pk


def test_a_reset_ends_every_session_the_member_is_signed_in_with(practice, boss, desk) -> None:
    """The lost phone may hold a signed-in session: it is refused at its next request, and so
    is any other of the member's; the manager's own session carries on."""
    with_second_factor(desk)
    on_the_lost_phone, at_the_desk = logged_in(desk), logged_in(desk)
    assert on_the_lost_phone.get(PATIENTS).status_code == 200
    manager = logged_in(boss)

    reset(manager, Membership.objects.get(user=desk))

    for session in (on_the_lost_phone, at_the_desk):
        refused = session.get(PATIENTS)
        assert refused.status_code == 302
        assert refused["Location"].startswith(reverse("login"))
    assert manager.get(PATIENTS).status_code == 200
    # Signing in again works, to set a new factor up.
    again = Client()
    again.post(reverse("login"), {"username": desk.email, "password": PASSWORD})
    assert again.get(PATIENTS).status_code in (200, 302)
    assert "_auth_user_id" in again.session
