"""The patient's waitlist in the portal (`me/waitlist/`), and the page a waitlist offer's link
opens (`waitlist/offer/<token>/`): no sign-in, the signed link is the credential, as for a
reminder's links. A GET only shows the offer (a mail scanner opening the link books nothing);
"Book this time" (or "Book this course") is a POST. An offer that no longer holds, or a time
taken meanwhile, is a page saying so, never an error."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from courses.models import Course
from practice.errors import Conflict
from practice.models import MassageType, Practice, Therapist
from practice.pages import Notices, errors_to_form, form_status, redirect_with_notice
from practice.tenancy import PracticeRequest
from practice.web import patient_page
from sessions.models import WaitlistEntry, WaitlistOfferStatus
from sessions.portal.access import own_patient
from sessions.reminders.links import waitlist_offer_token
from sessions.waitlist.claims import waitlist_offer_claim, waitlist_offer_from_link
from sessions.waitlist.entries import waitlist_entry_add, waitlist_entry_withdraw
from sessions.waitlist.forms import WaitlistEntryForm
from sessions.waitlist.selectors import waitlist_entries

NOTICES = Notices(
    {
        "added": _("You are on the waitlist. We will send you a message when a time is free."),
        "withdrawn": _("You are off the waitlist for this."),
        "not-waiting": _("This entry was no longer waiting."),
    }
)
# A forged link is a bad request, an offer closed or run out is gone, a time taken meanwhile
# is a conflict.
REFUSAL_STATUS = {"invalid_link": 400, "conflict": 409}


def _my_waitlist_url(request: PracticeRequest) -> str:
    return reverse("portal:my-waitlist", kwargs={"practice_slug": request.practice.slug})


@patient_page
@require_http_methods(["GET", "POST"])
def my_waitlist(request: PracticeRequest) -> HttpResponse:
    patient = own_patient(request)
    practice = request.practice
    form = WaitlistEntryForm(
        request.POST if request.method == "POST" else None,
        patients=None,
        massage_types=MassageType.objects.for_practice(practice).filter(
            active=True, online_bookable=True
        ),
        therapists=Therapist.objects.for_practice(practice).filter(active=True),
    )
    if form.is_bound and form.is_valid():
        try:
            waitlist_entry_add(
                practice=practice,
                patient=patient,
                by=request.user,
                by_patient=True,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return redirect_with_notice(_my_waitlist_url(request), "added")
    entries = list(waitlist_entries(practice=practice, patient_id=patient.pk))
    for entry in entries:
        for offer in entry.offers.all():
            if offer.status == WaitlistOfferStatus.OPEN:
                # The message's link, so a patient who signed in books it from here too.
                offer.claim_path = reverse(  # type: ignore[attr-defined]
                    "portal:waitlist-offer",
                    kwargs={
                        "practice_slug": practice.slug,
                        "token": waitlist_offer_token(offer.pk),
                    },
                )
    return NOTICES.render(
        request,
        "sessions/portal/waitlist.html",
        {"patient": patient, "form": form, "entries": entries},
        status=form_status(request, form),
    )


@patient_page
@require_POST
def my_waitlist_withdraw(request: PracticeRequest, pk: int) -> HttpResponse:
    patient = own_patient(request)
    entry = get_object_or_404(
        WaitlistEntry.objects.for_practice(request.practice).filter(patient=patient), pk=pk
    )
    notice = "withdrawn"
    try:
        waitlist_entry_withdraw(entry=entry, by=request.user, now=timezone.now())
    except ValidationError:
        notice = "not-waiting"
    return redirect_with_notice(_my_waitlist_url(request), notice)


@require_http_methods(["GET", "POST"])
def waitlist_offer(request: HttpRequest, practice_slug: str, token: str) -> HttpResponse:
    practice = get_object_or_404(Practice.objects.select_related("settings"), slug=practice_slug)
    # R24: the time as the message gave it, in the practice's zone.
    timezone.activate(practice.zone)
    now = timezone.now()
    context: dict[str, Any] = {"practice": practice, "token": token}
    try:
        if request.method == "POST":
            booked = waitlist_offer_claim(practice=practice, token=token, now=now)
            if isinstance(booked, Course):
                context["course"] = booked
                context["course_sessions"] = booked.sessions.order_by("starts_at")
            else:
                context["session"] = booked
        else:
            context["offer"] = waitlist_offer_from_link(practice=practice, token=token, now=now)
    except ValidationError as exc:
        code = exc.code or ""
        return _refused(request, context, exc.messages[0], code)
    except Conflict as exc:
        return _refused(request, context, _taken_message(exc), "conflict")
    return render(request, "sessions/portal/waitlist_offer.html", context)


def _taken_message(conflict: Conflict) -> str:
    # A course's conflict names the first of its sessions that is taken (`course_book`).
    if "sequence" in conflict.body:
        return str(
            _(
                "Someone else booked the time of session %(n)d of this course a moment ago, "
                "so the course cannot be booked as offered. We are sorry."
            )
            % {"n": conflict.body["sequence"]}
        )
    return str(_("Someone else booked this time a moment ago. We are sorry."))


def _refused(
    request: HttpRequest, context: dict[str, Any], message: str, code: str
) -> HttpResponse:
    context.update(message=message, code=code)
    return render(
        request,
        "sessions/portal/reply_refused.html",
        context,
        status=REFUSAL_STATUS.get(code, 410),
    )
