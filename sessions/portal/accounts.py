"""The portal's account pages: staff invite a patient (the link is emailed and shown), and
the patient opens the link to choose a password (or confirm their existing one); where the
practice allows it, a new patient signs up on their own and verifies their address. The
invitation itself is `patients.invitations`, the sign-up `patients.signup`."""

from __future__ import annotations

from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from patients.invitations import (
    invitation_accept,
    invitation_read,
    invitation_send,
    invitation_token,
)
from patients.selectors import patients_visible_to
from patients.signup import (
    SignupInvalid,
    signup_check,
    signup_complete,
    signup_open,
    signup_read,
    signup_request,
)
from practice.account_forms import (
    InvitationExistingAccountForm,
    InvitationNewAccountForm,
    SignupForm,
    SignupVerifyForm,
)
from practice.invitations import INVITATION_DAYS, InvitationInvalid
from practice.models import Practice, User
from practice.pages import errors_to_form, form_status
from practice.tenancy import PracticeRequest
from practice.web import staff_page
from sessions.portal.views import _url


@never_cache
@sensitive_post_parameters("new_password1", "new_password2", "password")
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, practice_slug: str, token: str) -> HttpResponse:
    """The invitation link: choose a password (or confirm the existing one), then the
    account is linked to the record and logged in."""
    practice = get_object_or_404(Practice.objects.select_related("settings"), slug=practice_slug)
    timezone.activate(practice.zone)
    try:
        invitation = invitation_read(token=token, practice=practice)
    except InvitationInvalid as exc:
        return render(
            request,
            "sessions/portal/join.html",
            {"practice": practice, "problem": str(exc)},
            status=400,
        )
    existing = User.objects.filter(email__iexact=invitation.email).first()
    data = request.POST if request.method == "POST" else None
    form: Form
    if existing is not None:
        form = InvitationExistingAccountForm(existing, request, data)
    else:
        # An unsaved user, so the similarity validator compares with the name and address.
        newcomer = User(email=invitation.email, full_name=invitation.patient.full_name)
        form = InvitationNewAccountForm(newcomer, data)
    if data is not None and form.is_valid():
        try:
            user = invitation_accept(
                invitation=invitation,
                account=existing,
                password=None if existing else form.cleaned_data["new_password1"],
            )
        except InvitationInvalid as exc:
            return render(
                request,
                "sessions/portal/join.html",
                {"practice": practice, "problem": str(exc)},
                status=400,
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("patients:portal", practice_slug=practice.slug)
    return render(
        request,
        "sessions/portal/join.html",
        {
            "practice": practice,
            "invitation": invitation,
            "form": form,
            "existing": existing is not None,
        },
        status=form_status(request, form),
    )


@staff_page
@require_POST
def invite(request: PracticeRequest, pk: int) -> HttpResponse:
    """Staff invite a patient to the portal: the link is emailed and shown."""
    patient = get_object_or_404(patients_visible_to(membership=request.membership), pk=pk)
    problem = ""
    if patient.archived:
        problem = _("This patient is archived.")
    elif not patient.email:
        problem = _("Add an email address to the record first: the invitation is sent there.")
    elif patient.user_id is not None:
        problem = _("This patient already has a portal account.")
    if problem:
        return render(
            request,
            "sessions/portal/invitation_sent.html",
            {"patient": patient, "problem": problem},
            status=400,
        )
    link = request.build_absolute_uri(
        _url(request, "portal:join", token=invitation_token(patient=patient))
    )
    sent = invitation_send(patient=patient, practice=request.practice, link=link)
    return render(
        request,
        "sessions/portal/invitation_sent.html",
        {"patient": patient, "link": link, "sent": sent, "days": INVITATION_DAYS},
    )


def _signup_practice(practice_slug: str) -> Practice:
    """The practice, if it takes sign-ups: otherwise the page does not exist."""
    practice = get_object_or_404(Practice.objects.select_related("settings"), slug=practice_slug)
    if not signup_open(practice):
        raise Http404(_("This practice takes new patients by invitation."))
    timezone.activate(practice.zone)
    return practice


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest, practice_slug: str) -> HttpResponse:
    """A new patient signs up; the page answers "check your email" whether or not the address
    has an account (`patients.signup`)."""
    practice = _signup_practice(practice_slug)
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        fields = {
            name: form.cleaned_data[name]
            for name in ("given_name", "family_name", "email", "phone", "date_of_birth")
        }
        try:
            patient = signup_check(practice=practice, fields=fields)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            signup_request(
                practice=practice,
                patient=patient,
                password=form.cleaned_data["password1"],
                link_for=lambda token: request.build_absolute_uri(
                    reverse(
                        "portal:signup-verify",
                        kwargs={"practice_slug": practice.slug, "token": token},
                    )
                ),
                login_link=request.build_absolute_uri(reverse("login")),
            )
            return render(
                request,
                "sessions/portal/signup.html",
                {"practice": practice, "sent_to": patient.email, "days": INVITATION_DAYS},
            )
    return render(
        request,
        "sessions/portal/signup.html",
        {"practice": practice, "form": form},
        status=form_status(request, form),
    )


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def signup_verify(request: HttpRequest, practice_slug: str, token: str) -> HttpResponse:
    """The emailed link: the password chosen at sign-up activates the account, which is
    logged in and sent on to the screening questionnaire."""
    practice = _signup_practice(practice_slug)
    form = SignupVerifyForm(request.POST if request.method == "POST" else None)
    try:
        signup = signup_read(token=token, practice=practice)
        if request.method == "POST" and form.is_valid():
            user = signup_complete(signup=signup, password=form.cleaned_data["password"])
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("patients:portal-screening-new", practice_slug=practice.slug)
    except SignupInvalid as exc:
        return render(
            request,
            "sessions/portal/signup_verify.html",
            {"practice": practice, "problem": str(exc)},
            status=400,
        )
    except ValidationError as exc:
        errors_to_form(form, exc)
    return render(
        request,
        "sessions/portal/signup_verify.html",
        {"practice": practice, "signup": signup, "form": form},
        status=form_status(request, form),
    )
