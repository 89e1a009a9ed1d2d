"""The desk's waitlist: who waits for what, the offers made and what became of them; adding a
patient and taking an entry off. Thin: the form checks shapes, `sessions.waitlist.entries`
decides."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from patients.models import Patient
from practice.models import MassageType, Therapist
from practice.pages import Notices, errors_to_form, form_status, redirect_with_notice
from practice.tenancy import PracticeRequest
from practice.web import staff_page
from sessions.models import WaitlistEntry, WaitlistEntryStatus
from sessions.waitlist.entries import waitlist_entry_add, waitlist_entry_withdraw
from sessions.waitlist.forms import WaitlistEntryForm
from sessions.waitlist.selectors import waitlist_entries

NOTICES = Notices(
    {
        "added": _("The patient is on the waitlist."),
        "withdrawn": _("The entry is off the waitlist."),
        "not-waiting": _("This entry was no longer waiting."),
    }
)


def _entry_form(request: PracticeRequest) -> WaitlistEntryForm:
    practice = request.practice
    return WaitlistEntryForm(
        request.POST if request.method == "POST" else None,
        patients=Patient.objects.for_practice(practice).filter(archived=False),
        massage_types=MassageType.objects.for_practice(practice).filter(active=True),
        therapists=Therapist.objects.for_practice(practice).filter(active=True),
    )


@staff_page
@require_http_methods(["GET", "POST"])
def waitlist(request: PracticeRequest) -> HttpResponse:
    form = _entry_form(request)
    if form.is_bound and form.is_valid():
        try:
            waitlist_entry_add(practice=request.practice, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return redirect_with_notice(
                reverse("sessions:waitlist", kwargs={"practice_slug": request.practice.slug}),
                "added",
            )
    shown = request.GET.get("status", WaitlistEntryStatus.ACTIVE)
    if shown not in WaitlistEntryStatus.values:
        shown = ""
    return NOTICES.render(
        request,
        "sessions/waitlist.html",
        {
            "form": form,
            "entries": waitlist_entries(practice=request.practice, status=shown),
            "shown": shown,
            "statuses": WaitlistEntryStatus.choices,
        },
        status=form_status(request, form),
    )


@staff_page
@require_POST
def waitlist_entry_withdraw_view(request: PracticeRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(WaitlistEntry.objects.for_practice(request.practice), pk=pk)
    notice = "withdrawn"
    try:
        waitlist_entry_withdraw(entry=entry, by=request.user, now=timezone.now())
    except ValidationError:
        notice = "not-waiting"
    return redirect_with_notice(
        reverse("sessions:waitlist", kwargs={"practice_slug": request.practice.slug}), notice
    )
