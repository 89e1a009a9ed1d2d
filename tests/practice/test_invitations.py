"""Staff join a practice only by accepting an invitation: the manager invites an address with a
role in the admin, the link is emailed, and the membership exists only once the invitee has
consented, with a new account or their existing one."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from practice.invitations import staff_invitation_token, staff_invite
from practice.models import Membership, Practice, Role, StaffInvitation, User
from tests.factories import PASSWORD
from tests.pages import field_errors, logged_in

pytestmark = pytest.mark.django_db

INVITE = reverse("admin:practice_staffinvitation_add")


def invite(client: Client, practice: Practice, email: str, role: Role = Role.FRONT_DESK) -> str:
    """The manager's "Invite staff" in the admin; the link the email carries."""
    response = client.post(INVITE, {"practice": practice.pk, "email": email, "role": role})
    assert response.status_code == 302, response.content.decode()[:3000]
    found = re.search(r"https?://\S+/join/staff/\S+/", mail.outbox[-1].body)
    assert found is not None
    return found.group(0)


NEW_ACCOUNT = {
    "full_name": "Nina Newcomer",
    "new_password1": "a-long-enough-passphrase",
    "new_password2": "a-long-enough-passphrase",
}


def test_admin_invitation_a_new_person_joins_after_accepting(
    manager_client, practice, client
) -> None:
    form = manager_client.get(INVITE).context["adminform"].form
    assert form.initial["practice"] == str(practice.pk)  # the manager's only practice
    link = invite(manager_client, practice, "Nina@Example.org", Role.THERAPIST)

    assert mail.outbox[-1].to == ["nina@example.org"]
    assert not User.objects.filter(email="nina@example.org").exists()
    page = client.get(link)
    assert page.status_code == 200
    assert "Linden" in page.content.decode()
    without_consent = client.post(link, NEW_ACCOUNT)
    assert without_consent.status_code == 400
    assert field_errors(without_consent.content.decode(), "consent")
    assert not Membership.objects.filter(user__email="nina@example.org").exists()

    accepted = client.post(link, {**NEW_ACCOUNT, "consent": "on"})

    assert accepted.status_code == 302
    membership = Membership.objects.get(user__email="nina@example.org")
    assert (membership.practice, membership.role) == (practice, Role.THERAPIST)
    assert membership.user.full_name == "Nina Newcomer"
    assert client.get(reverse("home"), follow=True).status_code == 200  # logged in
    invitation = StaffInvitation.objects.get()
    assert invitation.accepted_by == membership.user
    assert invitation.accepted_at is not None


def test_admin_invitation_an_existing_account_of_another_practice_joins_with_its_password(
    manager_client, practice, other_desk, client
) -> None:
    link = invite(manager_client, practice, other_desk.email)

    wrong = client.post(link, {"password": "not-it", "consent": "on"})
    assert wrong.status_code == 400
    assert not Membership.objects.filter(practice=practice, user=other_desk).exists()

    accepted = client.post(link, {"password": PASSWORD, "consent": "on"})

    assert accepted.status_code == 302
    assert set(other_desk.memberships.values_list("practice__slug", "role")) == {
        ("linden", Role.FRONT_DESK),
        ("harbour", Role.FRONT_DESK),
    }


def test_admin_invitation_link_works_once(manager_client, practice, client) -> None:
    link = invite(manager_client, practice, "once@example.org")
    client.post(link, {**NEW_ACCOUNT, "consent": "on"})

    again = Client().get(link)

    assert again.status_code == 400
    assert "already used" in again.content.decode()


def test_admin_invitation_expired_link_is_refused(manager_client, practice, client, clock) -> None:
    link = invite(manager_client, practice, "late@example.org")
    clock.shift(timedelta(days=8))

    response = client.post(link, {**NEW_ACCOUNT, "consent": "on"})

    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not User.objects.filter(email="late@example.org").exists()


def test_admin_invitation_tampered_link_is_refused(manager_client, practice, client) -> None:
    link = invite(manager_client, practice, "tamper@example.org")

    response = client.post(link.replace("/join/staff/", "/join/staff/x"), NEW_ACCOUNT)

    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert not Membership.objects.filter(user__email="tamper@example.org").exists()


def test_admin_invitation_withdrawn_link_is_refused(manager_client, practice, client) -> None:
    link = invite(manager_client, practice, "withdrawn@example.org")
    StaffInvitation.objects.get().delete()

    response = client.get(link)

    assert response.status_code == 400
    assert "withdrawn" in response.content.decode()


def test_admin_invitation_to_a_member_of_the_practice_is_refused(
    manager_client, practice, desk
) -> None:
    response = manager_client.post(
        INVITE, {"practice": practice.pk, "email": desk.email.upper(), "role": Role.MANAGER}
    )

    assert response.status_code == 200
    assert "already belongs to the practice" in response.content.decode()
    assert not StaffInvitation.objects.exists()
    assert not mail.outbox


def test_admin_invitation_a_patient_of_the_practice_is_not_made_staff(
    practice, member, client
) -> None:
    manager = member(practice, Role.MANAGER)
    invitation = staff_invite(
        practice=practice, email="later-patient@example.org", role=Role.MANAGER, by=manager
    )
    # The address became a patient's account after the invitation was sent.
    patient = member(practice, Role.PATIENT, email="later-patient@example.org")
    link = reverse("staff-join", kwargs={"token": staff_invitation_token(invitation=invitation)})

    response = client.post(link, {"password": PASSWORD, "consent": "on"})

    assert response.status_code == 400
    assert "already belongs to the practice" in response.content.decode()
    assert patient.memberships.get().role == Role.PATIENT


def test_admin_invitation_for_another_practice_is_refused(
    manager_client, practice, other_practice
) -> None:
    response = manager_client.post(
        INVITE, {"practice": other_practice.pk, "email": "x@example.org", "role": Role.MANAGER}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not StaffInvitation.objects.exists()


def test_admin_invitation_link_is_shown_when_the_email_fails(
    manager_client, practice, settings
) -> None:
    settings.EMAIL_BACKEND = "tests.practice.test_invitations.RefusingBackend"

    response = manager_client.post(
        INVITE,
        {"practice": practice.pk, "email": "nomail@example.org", "role": Role.FRONT_DESK},
        follow=True,
    )

    assert "/join/staff/" in response.content.decode()
    assert StaffInvitation.objects.get().email == "nomail@example.org"


class RefusingBackend:
    """A mail server that refuses every message."""

    def __init__(self, **kwargs: object) -> None:
        pass

    def send_messages(self, messages: object) -> int:
        raise OSError("connection refused")


def test_admin_invitation_a_manager_of_another_practice_cannot_see_it(
    manager_client, practice, other_practice, member
) -> None:
    invite(manager_client, practice, "private@example.org")
    theirs = logged_in(member(other_practice, Role.MANAGER))

    listing = theirs.get(reverse("admin:practice_staffinvitation_changelist"))

    assert "private@example.org" not in listing.content.decode()
