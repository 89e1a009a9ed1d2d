"""R21, R22 in one dispatcher: many sends in flight at once to a provider that takes its time,
each reminder still sent once, and the practice's SMS sender id on every request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from practice.models import Practice
from sessions.models import Reminder, ReminderStatus
from sessions.reminders.dispatch import reminders_dispatch
from tests.clock import local
from tests.factories import PatientFactory, ReminderFactory, SessionFactory
from tests.sessions.outbox import NOW, TUESDAY
from tests.sms_provider import ProviderLog, provider_env, sms_provider

pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW)]


@pytest.fixture
def provider(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProviderLog]:
    with sms_provider(delay=0.2) as log:
        for name, value in provider_env(log.url).items():
            if name.isupper() and name.startswith("REMINDER_"):
                setattr(settings, name, value)
            else:
                monkeypatch.setenv(name, value)
        yield log


def due_sms(practice: Practice, count: int) -> list[Reminder]:
    session = SessionFactory(
        practice=practice,
        patient=PatientFactory(practice=practice, consent_sms=True),
        starts_at=local(practice, TUESDAY, 10),
    )
    return ReminderFactory.create_batch(count, session=session, due_at=NOW - timedelta(minutes=1))


def test_r22_one_dispatcher_keeps_many_sends_in_flight_and_sends_each_once(
    provider: ProviderLog, practice: Practice
) -> None:
    reminders = due_sms(practice, 24)

    report = reminders_dispatch(now=NOW, concurrency=8)

    assert report.sent == 24
    # The provider was serving several of them at once, never more than the concurrency.
    assert 1 < provider.max_in_flight <= 8
    assert (provider.requests, len(provider.delivered), provider.duplicates) == (24, 24, 0)
    rows = Reminder.objects.filter(pk__in=[r.pk for r in reminders])
    assert set(rows.values_list("status", flat=True)) == {ReminderStatus.SENT}
    delivered_ids = {d.message_id for d in provider.delivered.values()}
    assert set(rows.values_list("provider_message_id", flat=True)) == delivered_ids
    assert set(rows.values_list("lease_owner", flat=True)) == {""}


def test_r21_the_practices_sms_sender_id_reaches_the_provider(
    provider: ProviderLog, practice: Practice, settings: Any
) -> None:
    settings.REMINDER_SMS_SENDER = "Deployment"
    practice.settings.sms_sender = "Linden Spa"
    practice.settings.full_clean()
    practice.settings.save()
    other = PatientFactory(consent_sms=True).practice
    due_sms(practice, 2)
    due_sms(other, 1)

    reminders_dispatch(now=NOW)

    by_sender = sorted(d.sender for d in provider.delivered.values())
    # A practice without a sender id of its own sends as the deployment's default.
    assert by_sender == ["Deployment", "Linden Spa", "Linden Spa"]
