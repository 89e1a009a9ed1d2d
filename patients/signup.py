"""Open sign-up: a new patient makes their own account on a practice whose settings allow it
(`PracticeSettings.patient_signup`). Nothing is stored until they follow the link emailed to
them: it is a signed, expiring token carrying what they entered (the password only as its
hash), and following it, with the same password, creates the account, the PATIENT membership
and the patient record at once. Asking for the password again proves that whoever opened the
mailbox is whoever chose it, so nobody can sign someone else's address up with a password of
their own. An address that already has an account gets a mail saying so, and the page says
"check your email" either way, so sign-up tells nobody which addresses have accounts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from patients.models import Patient
from patients.services import patient_create
from practice.invitations import INVITATION_DAYS, invitation_mail
from practice.models import PatientSignup, Practice, Role, User
from practice.services import membership_grant

SIGNUP_SALT = "patients.signup"


class SignupInvalid(Exception):
    """The verification link cannot be used: tampered with, expired, or already used."""


@dataclass(frozen=True)
class Signup:
    practice: Practice
    email: str
    given_name: str
    family_name: str
    phone: str
    date_of_birth: date
    password_hash: str


def signup_open(practice: Practice) -> bool:
    return practice.settings.patient_signup == PatientSignup.OPEN


def signup_check(*, practice: Practice, fields: dict[str, Any]) -> Patient:
    """The record the sign-up would create, validated now (the phone normalised to E.164), so
    the form shows its errors before any mail goes out."""
    patient = Patient(practice=practice, **fields)
    patient.full_clean(exclude=["user"])
    return patient


def signup_request(
    *,
    practice: Practice,
    patient: Patient,
    password: str,
    link_for: Callable[[str], str],
    login_link: str,
) -> bool:
    """Mail the verification link to the new address, or to an address that has an account
    already, a mail saying so. `link_for` makes the link of a token. False when the mail server
    refused it; the page says the same whatever happened."""
    email = patient.email.lower()
    if User.objects.filter(email__iexact=email).exists():
        return invitation_mail(
            practice=practice,
            to=email,
            template="patients/signup_existing",
            context={"login_link": login_link},
            log_id="to an existing account",
        )
    token = signing.dumps(
        {
            "practice": practice.pk,
            "email": email,
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "phone": patient.phone,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "password": make_password(password),
        },
        salt=SIGNUP_SALT,
        compress=True,
    )
    return invitation_mail(
        practice=practice,
        to=email,
        template="patients/signup_verify",
        context={"name": patient.full_name, "link": link_for(token)},
        log_id="to a new sign-up",
    )


def signup_read(*, token: str, practice: Practice) -> Signup:
    try:
        claims = signing.loads(token, salt=SIGNUP_SALT, max_age=timedelta(days=INVITATION_DAYS))
    except signing.SignatureExpired as exc:
        raise SignupInvalid(
            _("This link has expired. Please sign up again to get a new one.")
        ) from exc
    except signing.BadSignature as exc:
        raise SignupInvalid(
            _("This link is not valid. Please check that you copied all of it.")
        ) from exc
    if not isinstance(claims, dict) or claims.get("practice") != practice.pk:
        raise SignupInvalid(_("This link is not valid. Please check that you copied all of it."))
    if User.objects.filter(email__iexact=claims["email"]).exists():
        raise SignupInvalid(_("This link was already used. Log in with your email and password."))
    return Signup(
        practice=practice,
        email=claims["email"],
        given_name=claims["given_name"],
        family_name=claims["family_name"],
        phone=claims["phone"],
        date_of_birth=date.fromisoformat(claims["date_of_birth"]),
        password_hash=claims["password"],
    )


@transaction.atomic
def signup_complete(*, signup: Signup, password: str) -> User:
    """The address is verified: create the account with the password chosen at sign-up
    (given again), make it a patient of the practice and create their record."""
    if not check_password(password, signup.password_hash):
        raise ValidationError(
            {"password": _("This is not the password you chose when signing up.")}
        )
    full_name = f"{signup.given_name} {signup.family_name}"
    try:
        # A savepoint: the link followed twice at once creates one account, not two.
        with transaction.atomic():
            user = User.objects.create_user(signup.email, None, full_name=full_name)
    except IntegrityError as exc:
        raise SignupInvalid(
            _("This link was already used. Log in with your email and password.")
        ) from exc
    user.password = signup.password_hash
    user.save(update_fields=["password"])
    membership_grant(practice=signup.practice, user=user, role=Role.PATIENT)
    # A record the practice already keeps under this name or address is not this account's
    # to take over: staff merge the two if they are one person.
    patient_create(
        practice=signup.practice,
        confirm_duplicate=True,
        user=user,
        given_name=signup.given_name,
        family_name=signup.family_name,
        phone=signup.phone,
        email=signup.email,
        date_of_birth=signup.date_of_birth,
    )
    return user
