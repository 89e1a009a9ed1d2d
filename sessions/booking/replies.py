"""The patient's answers to a reminder (R21): confirming or cancelling a session through the
signed link in the message (`sessions.reminders.links`), with no account needed.

A link holds while its session is booked at the time the message named (the schedule version)
and has not begun. Cancelling honours the practice's notice (R13): inside it, a cancel would
be recorded as late, i.e. a missed session of the course. Through the portal the patient is
warned first and may go on; a link may have been forwarded, so it does not decide that for the
patient's record: it refuses, and the page gives the practice's phone number.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from practice.models import Practice
from sessions.booking.sessions import Cancellation, cancellation_is_late, session_cancel
from sessions.models import Session, SessionStatus
from sessions.reminders.links import invalid_link, session_link_read

# The codes of the refusals, for a page to tell them apart.
MOVED = "link_moved"
NOT_BOOKED = "link_not_booked"
BEGUN = "link_expired"
LATE = "late_cancellation"


def session_from_link(
    *, practice: Practice, token: str, now: datetime | None = None, lock: bool = False
) -> Session:
    """The session a reminder's link names, while the link holds; ValidationError otherwise
    (codes: "invalid_link", MOVED, NOT_BOOKED, BEGUN). `lock`: hold the session's row (inside
    a transaction), so a move or cancel cannot slip in before the answer is written."""
    now = now or timezone.now()
    link = session_link_read(token)
    sessions = Session.objects.for_practice(practice).select_related(
        "patient", "therapist", "massage_type", "practice__settings"
    )
    if lock:
        sessions = sessions.select_for_update(of=("self",))
    session = sessions.filter(pk=link.session_id).first()
    if session is None:
        # Signed by us for a session of another practice, or one deleted since: to whoever
        # holds it, no different from a forged link.
        raise invalid_link()
    if session.schedule_version != link.schedule_version:
        raise ValidationError(
            _("Your session was moved since this message: please use the link in the latest one."),
            code=MOVED,
        )
    if session.status != SessionStatus.BOOKED:
        raise ValidationError(
            _("This session is no longer booked (%(status)s).")
            % {"status": session.get_status_display().lower()},
            code=NOT_BOOKED,
        )
    if now >= session.starts_at:
        raise ValidationError(_("This link expired when the session began."), code=BEGUN)
    return session


def session_confirm_by_link(
    *, practice: Practice, token: str, now: datetime | None = None
) -> Session:
    """The patient says they will come: `confirmed_at` is set once per schedule version (a
    second click keeps the first time; a move clears it)."""
    now = now or timezone.now()
    with transaction.atomic():
        session = session_from_link(practice=practice, token=token, now=now, lock=True)
        if session.confirmed_at is None:
            session.confirmed_at = now
            session.save(update_fields=["confirmed_at", "updated_at"])
    return session


def late_cancellation_refusal(session: Session, now: datetime) -> ValidationError | None:
    """R13: a link never records a late cancellation (see the module's docstring)."""
    if not cancellation_is_late(session, now):
        return None
    return ValidationError(
        _(
            "Your session is less than %(hours)d hours away, so it cannot be cancelled "
            "online any more. Please call us."
        )
        % {"hours": session.practice.settings.cancellation_notice_hours},
        code=LATE,
    )


def session_cancel_by_link(
    *, practice: Practice, token: str, now: datetime | None = None
) -> Cancellation:
    """The patient cancels through the link, in time (R13); the patient knows, so no notice
    is sent (R21)."""
    now = now or timezone.now()
    with transaction.atomic():
        session = session_from_link(practice=practice, token=token, now=now, lock=True)
        if refusal := late_cancellation_refusal(session, now):
            raise refusal
        return session_cancel(
            session=session,
            by=None,
            reason=str(_("Cancelled by the patient through a reminder's link.")),
            now=now,
            by_patient=True,
        )
