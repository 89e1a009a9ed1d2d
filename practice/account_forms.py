"""The forms of an invitation link: a password for a new account, or the password of the
invited address's existing account; a staff invitation also asks for the invitee's name and
their explicit consent to join."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from practice.models import User


class InvitationNewAccountForm(SetPasswordForm):
    """A password for a new account, checked by Django's password validators."""


class InvitationExistingAccountForm(forms.Form):
    """The address already has an account: its owner proves it with their password, which
    the invitation never changes (the link is shown to staff too)."""

    password = forms.CharField(
        label=_("Your current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.request = user, request

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        # Through authenticate(), like the login page: failed attempts send the same signal
        # (and meet the same limits) as a failed login, and an inactive account is refused.
        if authenticate(self.request, email=self.user.email, password=password) is None:
            raise forms.ValidationError(_("This is not the password of this account."))
        return password


class JoinConsentForm(forms.Form):
    """Joining a practice's staff is the invitee's own decision, given in so many words."""

    consent = forms.BooleanField(
        label=_("I agree to join this practice with the role shown above."),
        error_messages={"required": _("Tick the box to join the practice.")},
    )


class StaffJoinNewAccountForm(InvitationNewAccountForm, JoinConsentForm):
    full_name = forms.CharField(label=_("Your full name"), max_length=200)

    field_order = ["full_name", "new_password1", "new_password2", "consent"]


class StaffJoinExistingAccountForm(InvitationExistingAccountForm, JoinConsentForm):
    pass


class SignupForm(forms.Form):
    """A new patient's own sign-up: who they are, and a password checked by Django's
    password validators."""

    given_name = forms.CharField(label=_("Given name"), max_length=100)
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        help_text=_("In international format, e.g. +49 151 23456789."),
        widget=forms.TextInput(attrs={"autocomplete": "tel"}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            name = f"{cleaned.get('given_name', '')} {cleaned.get('family_name', '')}"
            try:
                password_validation.validate_password(
                    first, User(email=cleaned.get("email", ""), full_name=name)
                )
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class SignupVerifyForm(forms.Form):
    """Following the emailed link, the password chosen at sign-up proves it is the same
    person."""

    password = forms.CharField(
        label=_("The password you chose"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
