"""Joining a practice by invitation. Nobody is added to a practice by someone else: a
manager invites an address with a role, the invitee gets a signed, expiring link, and the
membership is created only when they accept it, with a new account or with their existing one
(whose password they give). What a patient's and a staff member's invitation share lives here;
the patient's own invitation is `patients.invitations`.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from practice.models import Membership, Practice, Role, StaffInvitation, User
from practice.services import membership_grant

logger = logging.getLogger(__name__)

INVITATION_DAYS = 7
STAFF_INVITATION_SALT = "practice.staff_invitation"


class InvitationInvalid(Exception):
    """The link cannot be used: tampered with, expired, spent, or withdrawn."""


def signed_claims(*, token: str, salt: str) -> dict[str, Any]:
    """What an invitation link signed, if it is intact and younger than INVITATION_DAYS."""
    try:
        claims = signing.loads(token, salt=salt, max_age=timedelta(days=INVITATION_DAYS))
    except signing.SignatureExpired as exc:
        raise InvitationInvalid(
            _("This invitation has expired. Please ask the practice for a new one.")
        ) from exc
    except signing.BadSignature as exc:
        raise InvitationInvalid(
            _("This invitation link is not valid. Please check that you copied all of it.")
        ) from exc
    if not isinstance(claims, dict):
        raise InvitationInvalid(_("This invitation link is not valid."))
    return claims


def invited_account(
    *, email: str, account: User | None, password: str | None, full_name: str
) -> User:
    """`account` (the existing account of the invited address, whose owner has just given its
    password) or a new account of the address with `password`."""
    if account is not None:
        return account
    if password is None:
        raise ValidationError(_("Choose a password."))
    try:
        # A savepoint: an account of this address created meanwhile (another invitation
        # accepted at the same moment) must not be taken over without its password.
        with transaction.atomic():
            return User.objects.create_user(email, password, full_name=full_name)
    except IntegrityError as exc:
        raise ValidationError(
            _("An account with this address was just created. Please open the link again.")
        ) from exc


def invitation_mail(
    *, practice: Practice, to: str, template: str, context: dict[str, Any], log_id: object
) -> bool:
    """Email an invitation in the practice's language. False when the mail server refused
    it: staff are then shown the link to pass on."""
    practice_settings = practice.settings
    context = {**context, "practice": practice, "days": INVITATION_DAYS}
    with translation.override(practice_settings.language):
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}_email.txt", context)
    try:
        send_mail(subject, body, practice_settings.sender, [to])
    except (smtplib.SMTPException, OSError):
        logger.exception("invitation email %s failed", log_id)
        return False
    return True


def staff_invite(*, practice: Practice, email: str, role: Role, by: User) -> StaffInvitation:
    invitation = StaffInvitation(practice=practice, email=email, role=role, invited_by=by)
    invitation.full_clean()
    invitation.save()
    return invitation


def staff_invitation_token(*, invitation: StaffInvitation) -> str:
    return signing.dumps(
        {"invitation": invitation.pk, "email": invitation.email},
        salt=STAFF_INVITATION_SALT,
        compress=True,
    )


def staff_invitation_read(*, token: str) -> StaffInvitation:
    claims = signed_claims(token=token, salt=STAFF_INVITATION_SALT)
    pk, email = claims.get("invitation"), claims.get("email")
    if not (isinstance(pk, int) and isinstance(email, str)):
        raise InvitationInvalid(_("This invitation link is not valid."))
    invitation = (
        StaffInvitation.objects.select_related("practice__settings")
        .filter(pk=pk, email=email)
        .first()
    )
    if invitation is None:
        # The manager withdrew it (deleted the row).
        raise InvitationInvalid(
            _("This invitation was withdrawn. Please ask the practice for a new one.")
        )
    if invitation.accepted_at is not None:
        raise InvitationInvalid(
            _("This invitation was already used. Log in with your email and password.")
        )
    return invitation


@transaction.atomic
def staff_invitation_accept(
    *, invitation: StaffInvitation, account: User | None, password: str | None, full_name: str = ""
) -> User:
    """The invitee consented: make `account` (or a new account with `password`) a member of
    the practice with the invited role. The row lock makes a second use of the link, even at
    the same moment, find it accepted and fail."""
    locked = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at is not None:
        raise InvitationInvalid(
            _("This invitation was already used. Log in with your email and password.")
        )
    user = invited_account(
        email=locked.email, account=account, password=password, full_name=full_name
    )
    # membership_grant would change the role of someone who already belongs to the practice
    # (a patient becoming its manager, say): that is not what the invitation asked.
    if Membership.objects.filter(practice_id=locked.practice_id, user=user).exists():
        raise ValidationError(_("This account already belongs to the practice."))
    membership_grant(practice=locked.practice, user=user, role=Role(locked.role))
    locked.accepted_at = timezone.now()
    locked.accepted_by = user
    locked.save(update_fields=["accepted_at", "accepted_by"])
    return user


def staff_invitation_send(*, invitation: StaffInvitation, link: str) -> bool:
    return invitation_mail(
        practice=invitation.practice,
        to=invitation.email,
        template="practice/staff_invitation",
        context={"invitation": invitation, "link": link},
        log_id=f"to staff invitation {invitation.pk}",
    )
