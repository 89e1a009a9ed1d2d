"""The second factor of staff sign-in (ASVS 4.0 2.8): an authenticator app (TOTP, django-otp)
and one-time recovery codes for when the phone is lost.

A session learns that its user has a second factor when they sign in (`second_factor_pending`,
set from the `user_logged_in` signal) and is held at the code page until they give a code; the
session then counts as verified (`second_factor_verified`). Both are session keys, so a request
costs no query for them. Who must have one: every manager, and the rest of a practice's staff
when the practice asks (`PracticeSettings.staff_second_factor_required`).
"""

from __future__ import annotations

import base64
import secrets

import segno
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice.audit.models import Action
from practice.audit.services import record
from practice.models import STAFF_ROLES, Membership, RecoveryCode, Role, User

PENDING = "second_factor_pending"
VERIFIED = "second_factor_verified"

RECOVERY_CODE_COUNT = 10
# Letters and digits that cannot be mistaken for one another when copied from paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class SecondFactorRefused(Exception):
    """The code is wrong, used up, or too many wrong codes were tried just now."""


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def membership_requires_second_factor(membership: Membership) -> bool:
    if membership.role == Role.MANAGER:
        return True
    return (
        membership.role in STAFF_ROLES and membership.practice.settings.staff_second_factor_required
    )


def second_factor_required(user: User) -> bool:
    """Whether any of the user's memberships asks for a second factor."""
    return user.memberships.filter(
        Q(role=Role.MANAGER)
        | Q(role__in=STAFF_ROLES, practice__settings__staff_second_factor_required=True)
    ).exists()


def is_verified(request: HttpRequest) -> bool:
    return bool(request.session.get(VERIFIED))


def mark_verified(request: HttpRequest) -> None:
    # A new session key, as at sign-in: a session id seen before the code was given is worth
    # nothing afterwards.
    request.session.cycle_key()
    request.session.pop(PENDING, None)
    request.session[VERIFIED] = True


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator for `user` (an earlier unconfirmed one is dropped):
    it counts only once a code from it confirms that the app holds the secret."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def pending_enrolment(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def totp_enrolment_confirm(*, device: TOTPDevice, code: str) -> list[str]:
    """Confirm `device` with a code from the app; it replaces any earlier authenticator of the
    user, who gets a fresh set of recovery codes (returned in clear, shown once)."""
    if not device.verify_token(code.strip()):
        raise ValidationError({"code": _("This code is not right. Enter the current code.")})
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return recovery_codes_issue(user=device.user)


def recovery_codes_issue(*, user: User) -> list[str]:
    """Replace the user's recovery codes with new ones; only their hashes are stored."""
    codes = [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(3))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, lookup=code[:4], code_hash=make_password(code))
            for code in codes
        )
    return codes


def _recovery_code_use(user: User, code: str) -> bool:
    code = code.strip().lower()
    for candidate in RecoveryCode.objects.filter(user=user, lookup=code[:4], used_at=None):
        if check_password(code, candidate.code_hash):
            # Conditional, so two requests racing with the same code cannot both use it.
            return bool(
                RecoveryCode.objects.filter(pk=candidate.pk, used_at=None).update(
                    used_at=timezone.now()
                )
            )
    return False


def second_factor_check(*, user: User, code: str) -> None:
    """Accept a code from the user's authenticator app or one of their recovery codes (which
    is then used up); raise SecondFactorRefused otherwise. The app's codes are throttled by
    django-otp (each wrong one doubles the wait before the next is looked at)."""
    device = confirmed_device(user)
    if device is None:
        raise SecondFactorRefused
    code = code.strip()
    if code.isdigit():
        if not device.verify_token(code):
            raise SecondFactorRefused
        return
    if not _recovery_code_use(user, code):
        raise SecondFactorRefused


def second_factor_remove(*, user: User) -> None:
    """Drop the user's authenticator and recovery codes (a manager's reset for a lost phone)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()


def second_factor_reset(*, membership: Membership, by: User, reason: str) -> None:
    """A manager of the practice (or a superuser) drops a staff member's second factor when
    they have lost their phone; every session they are signed in with ends (the phone may
    hold one), and they set up a new one when they next sign in if their role asks for one.
    Recorded in the audit trail with `by` as the actor and the reason given.

    A manager's own factor is not reset here: they replace it on their own enrolment page,
    which asks them for a code first, so this path cannot be used to drop a factor without
    one. A patient's membership is refused, so that no manager reaches, through a patient
    record, the account of someone who works for another practice."""
    if not by.is_superuser:
        if not Membership.objects.filter(
            practice_id=membership.practice_id, user=by, role=Role.MANAGER
        ).exists():
            raise PermissionDenied
        if membership.user_id == by.pk:
            raise ValidationError(
                _("Your own second factor is replaced on your own page, not reset here.")
            )
    if membership.role not in STAFF_ROLES:
        raise ValidationError(_("Only a member of the staff has a second factor to reset."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the second factor is reset.")})
    with transaction.atomic():
        second_factor_remove(user=membership.user)
        # The lost phone may hold a signed-in session: every session ends.
        membership.user.sessions_end()
        record(
            action=Action.UPDATE,
            subject=membership,
            patient_id=None,
            reason=reason,
            fields=("second_factor",),
        )


def totp_secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed in (base32)."""
    return base64.b32encode(device.bin_key).decode()


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The enrolment QR code as an SVG data: URI for an <img> (no script, no inline style)."""
    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2))
