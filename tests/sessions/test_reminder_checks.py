"""The deploy check of the reminders' delivery (R21), in-process; `check --deploy` itself runs
in tests/practice/test_settings.py."""

from __future__ import annotations

from typing import Any

import pytest

from sessions.reminders.checks import reminder_delivery_check

HTTP_SMS = "sessions.reminders.channels.HttpSmsBackend"
SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture(autouse=True)
def public_site(settings: Any) -> None:
    settings.SITE_URL = "https://practice.example.com"


def test_r21_links_to_localhost_are_refused(settings: Any) -> None:
    settings.DEBUG = False
    settings.REMINDER_SMS_BACKEND = HTTP_SMS
    settings.REMINDER_SMS_HTTP_URL = "https://sms.example.com/v1/messages"
    settings.EMAIL_BACKEND = SMTP
    settings.SITE_URL = "http://127.0.0.1:8000"

    assert ids() == ["reminders.E006"]


def ids() -> list[str]:
    return [message.id for message in reminder_delivery_check()]


def test_r21_an_sms_provider_and_smtp_pass(settings: Any) -> None:
    settings.DEBUG = False
    settings.REMINDER_SMS_BACKEND = HTTP_SMS
    settings.REMINDER_SMS_HTTP_URL = "https://sms.example.com/v1/messages"
    settings.EMAIL_BACKEND = SMTP

    assert ids() == []


def test_r21_the_http_sms_backend_needs_its_providers_url(settings: Any) -> None:
    settings.DEBUG = False
    settings.REMINDER_SMS_BACKEND = HTTP_SMS
    settings.REMINDER_SMS_HTTP_URL = ""
    settings.EMAIL_BACKEND = SMTP

    assert ids() == ["reminders.E003"]


def test_r21_an_unknown_sms_backend_and_in_memory_email_are_refused(settings: Any) -> None:
    settings.DEBUG = False
    settings.REMINDER_SMS_BACKEND = "sessions.reminders.channels.NoSuchBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    assert ids() == ["reminders.E001", "reminders.E004"]


def test_r21_with_debug_on_the_local_backends_are_fine(settings: Any) -> None:
    settings.DEBUG = True
    settings.REMINDER_SMS_BACKEND = "sessions.reminders.channels.ConsoleSmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

    assert ids() == []


def test_r22_a_lease_shorter_than_a_send_is_refused(settings: Any) -> None:
    settings.DEBUG = False
    settings.REMINDER_SMS_BACKEND = HTTP_SMS
    settings.REMINDER_SMS_HTTP_URL = "https://sms.example.com/v1/messages"
    settings.EMAIL_BACKEND = SMTP
    settings.EMAIL_TIMEOUT = 30.0
    settings.REMINDER_LEASE_SECONDS = 30

    assert ids() == ["reminders.E005"]
