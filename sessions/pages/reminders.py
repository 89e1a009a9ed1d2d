"""The desk's "send again" of a failed reminder (R21), offered where failed reminders show: the
calendar's day and the patient's record."""

from __future__ import annotations

from contextlib import suppress

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from practice.errors import Conflict
from practice.tenancy import PracticeRequest
from practice.web import staff_page
from sessions.models import Reminder
from sessions.reminders.outbox import reminder_send_again


@staff_page
@require_POST
def reminder_send_again_view(request: PracticeRequest, pk: int) -> HttpResponse:
    """Back to the page it was sent from, where the row now shows pending (or, sent again
    by a colleague meanwhile, whatever became of it: a 409 would say no more)."""
    reminder = get_object_or_404(Reminder.objects.for_practice(request.practice), pk=pk)
    with suppress(Conflict):
        reminder_send_again(reminder=reminder)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse(
            "patients:patient-detail",
            kwargs={"practice_slug": request.practice.slug, "pk": reminder.patient_id},
        )
    return redirect(back)
