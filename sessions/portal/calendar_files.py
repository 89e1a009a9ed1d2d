"""Calendar files for patients: an .ics per session and a personal calendar feed whose URL
carries a signed token instead of a login (calendar apps cannot log in)."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from patients.models import Patient
from patients.self_service import calendar_feed_renew
from practice.models import Practice
from practice.pages import redirect_with_notice
from practice.tenancy import PracticeRequest
from practice.web import patient_page
from sessions.models import ACTIVE, FREEING_STATUSES, Session
from sessions.portal.access import own_patient, own_session
from sessions.reminders.ics import (
    ICS_CONTENT_TYPE,
    CalendarEvent,
    EventStatus,
    calendar_feed,
    practice_location,
    session_ics,
    session_uid,
)

# --- Calendar files -----------------------------------------------------------------------------


FEED_SALT = "sessions.portal.calendar-feed"
# The feed keeps recent history too, so a calendar does not drop last week's session at once.
FEED_HISTORY = timedelta(days=90)


def _event(session: Session, practice: Practice) -> CalendarEvent:
    return CalendarEvent(
        uid=session_uid(session.pk),
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        summary=_("%(type)s at %(practice)s")
        % {"type": session.massage_type.display_name, "practice": practice.name},
        location=practice_location(practice),
        description=_("With %(therapist)s.") % {"therapist": session.therapist.name},
        sequence=session.schedule_version - 1,
        status=(
            EventStatus.CANCELLED if session.status in FREEING_STATUSES else EventStatus.CONFIRMED
        ),
    )


@patient_page
def session_ics_view(request: PracticeRequest, pk: int) -> HttpResponse:
    session = own_session(request, pk)
    day = session.starts_at.astimezone(request.practice.zone).date()
    response = HttpResponse(
        session_ics(_event(session, request.practice)), content_type=ICS_CONTENT_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="session-{day:%Y-%m-%d}.ics"'
    return response


def feed_token(patient: Patient) -> str:
    """The secret in a patient's feed URL. It names the record, the account linked to it and
    the record's feed version, so unlinking the account (or linking another) or asking for a
    new link ends every URL handed out before."""
    return signing.dumps(
        {"patient": patient.pk, "user": patient.user_id, "v": patient.calendar_feed_version},
        salt=FEED_SALT,
    )


@patient_page
@require_POST
def calendar_feed_renew_view(request: PracticeRequest) -> HttpResponse:
    calendar_feed_renew(patient=own_patient(request))
    target = reverse("portal:my-sessions", kwargs={"practice_slug": request.practice.slug})
    return redirect_with_notice(target, "feed-renewed")


@never_cache
def calendar_feed_view(request: HttpRequest, practice_slug: str, token: str) -> HttpResponse:
    """The personal calendar feed: no login (calendar apps cannot log in), the signed token
    is the key. A bad token is a 404, like a practice or patient that does not exist."""
    practice = get_object_or_404(Practice.objects.select_related("settings"), slug=practice_slug)
    try:
        claims = signing.loads(token, salt=FEED_SALT)
    except signing.BadSignature as exc:
        raise Http404 from exc
    if not isinstance(claims, dict) or not claims.get("user"):
        raise Http404
    # Links signed before feed versions existed carry none: they are version 0.
    version = claims.get("v", 0)
    if not isinstance(version, int):
        raise Http404
    patient = get_object_or_404(
        Patient.objects.for_practice(practice),
        pk=claims.get("patient"),
        user_id=claims["user"],
        calendar_feed_version=version,
    )
    sessions = (
        Session.objects.for_practice(practice)
        .filter(ACTIVE, patient=patient, starts_at__gte=timezone.now() - FEED_HISTORY)
        .select_related("massage_type", "therapist")
        .order_by("starts_at", "id")
    )
    # No user to ask: the feed speaks the practice's language.
    with translation.override(practice.settings.language):
        body = calendar_feed(
            [_event(session, practice) for session in sessions],
            calendar_name=_("%(practice)s: my sessions") % {"practice": practice.name},
        )
    return HttpResponse(body, content_type=ICS_CONTENT_TYPE)
