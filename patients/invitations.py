"""Inviting a patient to the portal. The invitation has no table of its own: it is a signed,
expiring token naming the practice, the patient record and the address it was sent to. It is
spent once the record is linked to an account, and void as soon as the record's address
changes.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from patients.models import Patient
from patients.services import patient_update
from practice.models import Membership, Practice, Role, User
from practice.services import membership_grant

logger = logging.getLogger(__name__)

INVITATION_SALT = "sessions.portal.invitation"
INVITATION_DAYS = 7


class InvitationInvalid(Exception):
    """The link cannot be used: tampered with, expired, spent, or its record changed."""


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
    try:
        claims = signing.loads(token, salt=INVITATION_SALT, max_age=timedelta(days=INVITATION_DAYS))
    except signing.SignatureExpired as exc:
        raise InvitationInvalid(
            _("This invitation has expired. Please ask the practice for a new one.")
        ) from exc
    except signing.BadSignature as exc:
        raise InvitationInvalid(
            _("This invitation link is not valid. Please check that you copied all of it.")
        ) from exc
    if not isinstance(claims, dict) or claims.get("practice") != practice.pk:
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
    if account is None:
        if password is None:
            raise ValidationError(_("Choose a password."))
        try:
            # A savepoint: an account of this address created meanwhile (another invitation
            # accepted at the same moment) must not be taken over without its password.
            with transaction.atomic():
                user = User.objects.create_user(
                    invitation.email, password, full_name=patient.full_name
                )
        except IntegrityError as exc:
            raise ValidationError(
                _("An account with this address was just created. Please open the link again.")
            ) from exc
    else:
        user = account
        role = (
            Membership.objects.filter(practice=invitation.practice, user=user)
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
    membership_grant(practice=invitation.practice, user=user, role=Role.PATIENT)
    patient_update(patient=patient, user=user)
    return user


def invitation_send(*, patient: Patient, practice: Practice, link: str) -> bool:
    """Email the link in the practice's language. False when the mail server refused it:
    the page then shows the link for staff to pass on."""
    practice_settings = practice.settings
    sender = practice_settings.sender_email or settings.DEFAULT_FROM_EMAIL
    if practice_settings.sender_name:
        sender = f"{practice_settings.sender_name} <{sender}>"
    context = {"patient": patient, "practice": practice, "link": link, "days": INVITATION_DAYS}
    with translation.override(practice_settings.language):
        subject = render_to_string("patients/invitation_subject.txt", context).strip()
        body = render_to_string("patients/invitation_email.txt", context)
    try:
        send_mail(subject, body, sender, [patient.email])
    except (smtplib.SMTPException, OSError):
        logger.exception("invitation email to patient %s failed", patient.pk)
        return False
    return True
