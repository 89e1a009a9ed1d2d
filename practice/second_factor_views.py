"""The pages of the second factor: the code asked after the password, setting up an
authenticator app (with the recovery codes shown once), and a manager's reset of a member's
factor (an action of the admin's membership list)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from practice.models import Membership, User
from practice.pages import errors_to_form, form_status
from practice.second_factor import (
    PENDING,
    SecondFactorRefused,
    has_second_factor,
    mark_verified,
    pending_enrolment,
    second_factor_check,
    second_factor_reset,
    totp_enrolment_confirm,
    totp_enrolment_start,
    totp_qr_data_uri,
    totp_secret,
)
from practice.tenancy import SignedInRequest


class SecondFactorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6-digit code of your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class EnrolmentCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
    )


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return resolve_url("home")


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
@login_required
def second_factor_verify(request: SignedInRequest) -> HttpResponse:
    if not request.session.get(PENDING):
        return redirect(_next_url(request))
    form = SecondFactorCodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            second_factor_check(user=request.user, code=form.cleaned_data["code"])
        except SecondFactorRefused:
            form.add_error("code", _("This code is not right, or was used already."))
        else:
            mark_verified(request)
            return redirect(_next_url(request))
    return render(
        request,
        "practice/second_factor_verify.html",
        {"form": form, "next": _next_url(request)},
        status=form_status(request, form),
    )


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
@login_required
def second_factor_enrol(request: SignedInRequest) -> HttpResponse:
    """Set up an authenticator app: scan the code (or type the secret), confirm with a code
    from the app; the recovery codes are shown once, on the answer to that confirmation."""
    device = pending_enrolment(request.user) or totp_enrolment_start(user=request.user)
    form = EnrolmentCodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            codes = totp_enrolment_confirm(device=device, code=form.cleaned_data["code"])
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            mark_verified(request)
            return render(
                request,
                "practice/recovery_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
    return render(
        request,
        "practice/second_factor_enrol.html",
        {
            "form": form,
            "qr_code": totp_qr_data_uri(device),
            "secret": totp_secret(device),
            "replacing": has_second_factor(request.user),
            "next": _next_url(request),
        },
        status=form_status(request, form),
    )


class SecondFactorResetForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("Kept in the audit trail, e.g. “lost her phone, asked by phone call”."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@admin.action(description=_("Reset the second factor (a lost phone)"))
def reset_second_factor(
    modeladmin: admin.ModelAdmin[Membership],
    request: HttpRequest,
    queryset: QuerySet[Membership],
) -> HttpResponse | None:
    """Asks for a reason first, then resets each selected member's factor. The queryset holds
    the manager's practices' memberships only (PracticeScopedAdmin): another practice's member
    cannot even be selected."""
    form = SecondFactorResetForm(request.POST if "apply" in request.POST else None)
    memberships = list(queryset.select_related("user", "practice"))
    if not memberships:
        return None
    if not form.is_valid():
        return TemplateResponse(
            request,
            "admin/practice/membership/reset_second_factor.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": _("Reset the second factor"),
                "opts": modeladmin.model._meta,
                "form": form,
                "memberships": memberships,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )
    done = 0
    for membership in memberships:
        try:
            second_factor_reset(
                membership=membership,
                by=cast(User, request.user),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            modeladmin.message_user(
                request, f"{membership.user}: {' '.join(exc.messages)}", messages.ERROR
            )
        else:
            done += 1
    if done:
        modeladmin.message_user(
            request,
            ngettext(
                "The second factor of %(count)d account is reset: it is set up again at the "
                "next sign-in.",
                "The second factors of %(count)d accounts are reset: each is set up again at "
                "the next sign-in.",
                done,
            )
            % {"count": done},
            messages.SUCCESS,
        )
    return None
