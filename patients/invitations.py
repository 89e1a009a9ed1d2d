"""Inviting a patient to the portal. The invitation has no table of its own: it is a signed,
expiring token naming the practice, the patient record and the address it was sent to. It is
spent once the record is linked to an account, and void as soon as the record's address
changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from patients.models import Patient
from patients.services import patient_update
from practice.invitations import (
    InvitationInvalid,
    invitation_mail,
    invited_account,
    signed_claims,
)
from practice.models import Membership, Practice, Role, User
from practice.services import membership_grant

INVITATION_SALT = "sessions.portal.invitation"


@dataclass(frozen=True)
class Invitation:
    practice: Practice
    patient: Patient
    email: str


def invitation_token(*, patient: Patient) -> str:
    return signing.dumps(
        {"practice": patient.practice_id, "patient": patient.pk, "email": patient.email.lower()},
        salt=INVITATION_SALT,
        compress=True,
    )


def invitation_read(*, token: str, practice: Practice) -> Invitation:
    claims = signed_claims(token=token, salt=INVITATION_SALT)
    if claims.get("practice") != practice.pk:
        raise InvitationInvalid(_("This invitation link is not valid."))
    patient_id = claims.get("patient")
    patient = (
        Patient.objects.for_practice(practice).filter(pk=patient_id, archived=False).first()
        if patient_id is not None
        else None
    )
    if patient is None or patient.email.lower() != claims.get("email"):
        # The record was archived or its address changed since the link was sent.
        raise InvitationInvalid(
            _("This invitation is no longer valid. Please ask the practice for a new one.")
        )
    if patient.user_id is not None:
        raise InvitationInvalid(
            _("This invitation was already used. Log in with your email and password.")
        )
    return Invitation(practice=practice, patient=patient, email=claims["email"])


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, account: User | None, password: str | None
) -> User:
    """Link the record to `account` (the existing account of the invitation's address, whose
    owner has just given its password) or to a new account with `password`, and make it a
    patient of the practice. The record's row lock makes a second use of the same link, even
    at the same moment, find the record linked and fail."""
    patient = Patient.objects.select_for_update().get(pk=invitation.patient.pk)
    if patient.user_id is not None:
        raise InvitationInvalid(
            _("This invitation was already used. Log in with your email and password.")
        )
    if account is not None:
        role = (
            Membership.objects.filter(practice=invitation.practice, user=account)
            .values_list("role", flat=True)
            .first()
        )
        # membership_grant would turn a staff member into a patient of their own practice.
        if role is not None and role != Role.PATIENT:
            raise ValidationError(
                _(
                    "This address belongs to a staff account of the practice. Please ask the "
                    "practice to invite another address."
                )
            )
    user = invited_account(
        email=invitation.email, account=account, password=password, full_name=patient.full_name
    )
    membership_grant(practice=invitation.practice, user=user, role=Role.PATIENT)
    patient_update(patient=patient, user=user)
    return user


def invitation_send(*, patient: Patient, practice: Practice, link: str) -> bool:
    """Email the link in the practice's language. False when the mail server refused it:
    the page then shows the link for staff to pass on."""
    return invitation_mail(
        practice=practice,
        to=patient.email,
        template="patients/invitation",
        context={"patient": patient, "link": link},
        log_id=f"to patient {patient.pk}",
    )
