"""The pages a reminder's links open (R21): the patient confirms or cancels a session without
signing in (`sessions.booking.replies` decides; the link is the credential).

A GET only shows what the link would do; the change is a POST from that page, so a mail
scanner or a browser's prefetch that opens a link changes nothing. A link that no longer holds
(forged, the session moved, cancelled or begun) or a cancel inside the notice is a page saying
so, with the practice's phone number, never an error.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from practice.errors import Conflict
from practice.models import Practice
from sessions.booking.replies import (
    LATE,
    late_cancellation_refusal,
    session_cancel_by_link,
    session_confirm_by_link,
    session_from_link,
)

CONFIRM = "confirm"
CANCEL = "cancel"
# A forged link is a bad request; one that held once is gone; a late cancel is refused.
REFUSAL_STATUS = {"invalid_link": 400, LATE: 409}


def _refused(
    request: HttpRequest, context: dict[str, Any], message: str, code: str
) -> HttpResponse:
    context.update(message=message, code=code)
    return render(
        request, "sessions/portal/reply_refused.html", context, status=REFUSAL_STATUS.get(code, 410)
    )


@require_http_methods(["GET", "POST"])
def reply(request: HttpRequest, practice_slug: str, token: str, action: str = "") -> HttpResponse:
    practice = get_object_or_404(Practice.objects.select_related("settings"), slug=practice_slug)
    # R24: the session's time as the message gave it, in the practice's zone.
    timezone.activate(practice.zone)
    now = timezone.now()
    context: dict[str, Any] = {"practice": practice, "token": token, "action": action}
    try:
        if request.method == "POST" and action == CONFIRM:
            context.update(session=session_confirm_by_link(practice=practice, token=token, now=now))
            context["done"] = CONFIRM
        elif request.method == "POST" and action == CANCEL:
            result = session_cancel_by_link(practice=practice, token=token, now=now)
            context.update(session=result.session, done=CANCEL)
        elif request.method == "POST":
            return HttpResponse(status=405, headers={"Allow": "GET"})
        else:
            session = session_from_link(practice=practice, token=token, now=now)
            refusal = late_cancellation_refusal(session, now)
            if refusal is not None and action == CANCEL:
                raise refusal
            context.update(session=session, may_cancel=refusal is None)
    except ValidationError as exc:
        return _refused(request, context, exc.messages[0], exc.code or "")
    except Conflict as exc:
        # The session changed between the page and the answer.
        return _refused(request, context, exc.detail, "conflict")
    return render(request, "sessions/portal/reply.html", context)
