"""Telling a practice's managers that reminders are failing (R21): a reminder the providers
keep refusing is one the patient never gets, and the desk should call instead.

One alert per practice per hour, however many reminders fail: a provider outage fails them by
the hundred, and a hundred emails would bury the one that matters. The hour is claimed with a
conditional update of the practice's `ReminderFailureAlert` row (the sweeps of several workers
race for it; one wins), and the email is sent after that transaction, with no lock held.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from practice.models import Membership, Practice, Role
from sessions.models import Reminder, ReminderFailureAlert, ReminderStatus

logger = logging.getLogger(__name__)

ALERT_INTERVAL = timedelta(hours=1)


def _claim_the_hour(practice_id: int, now: datetime) -> bool:
    with transaction.atomic():
        ReminderFailureAlert.objects.bulk_create(
            [ReminderFailureAlert(practice_id=practice_id)], ignore_conflicts=True
        )
        return bool(
            ReminderFailureAlert.objects.filter(practice_id=practice_id)
            .filter(Q(last_sent_at__isnull=True) | Q(last_sent_at__lte=now - ALERT_INTERVAL))
            .update(last_sent_at=now)
        )


def _alert_text(practice: Practice, now: datetime) -> tuple[str, str]:
    failed = Reminder.objects.for_practice(practice).filter(
        status=ReminderStatus.FAILED, updated_at__gte=now - ALERT_INTERVAL
    )
    latest = failed.order_by("-updated_at", "-id").first()
    calendar = reverse("sessions:calendar", kwargs={"practice_slug": practice.slug})
    subject = gettext("%(practice)s: reminders are failing") % {"practice": practice.name}
    count = failed.count()
    body = ngettext(
        "%(count)d reminder of %(practice)s failed in the last hour",
        "%(count)d reminders of %(practice)s failed in the last hour",
        count,
    ) % {"count": count, "practice": practice.name}
    body += "\n\n" + gettext(
        "The patients did not get them. The latest reason: %(reason)s\n\nThe calendar lists "
        'them with a "Send again" button: %(url)s\n\nYou will hear again in an hour if more '
        "fail."
    ) % {
        "reason": latest.last_error if latest else "-",
        "url": f"{settings.SITE_URL.rstrip('/')}{calendar}",
    }
    return subject, body


def reminder_failures_alert(*, practice_id: int, now: datetime | None = None) -> bool:
    """A reminder of the practice has just failed: email its managers, unless they were told
    in the last hour. Returns whether an alert went out."""
    now = now or timezone.now()
    if not _claim_the_hour(practice_id, now):
        return False
    practice = Practice.objects.select_related("settings").get(pk=practice_id)
    managers = list(
        Membership.objects.for_practice(practice)
        .filter(role=Role.MANAGER, user__is_active=True)
        .values_list("user__email", flat=True)
    )
    if not managers:
        return False
    with translation.override(practice.settings.language):
        subject, body = _alert_text(practice, now)
    try:
        send_mail(subject, body, practice.settings.sender, managers)
    except Exception:
        # Not sent: give the hour back, so the next failure tries again.
        logger.exception("the reminder failure alert of practice %s was not sent", practice_id)
        ReminderFailureAlert.objects.filter(practice_id=practice_id, last_sent_at=now).update(
            last_sent_at=None
        )
        return False
    return True
