"""`manage.py check --deploy` (R21): with DEBUG off, reminders must reach patients. A console or
in-memory backend accepts every message and delivers none, so a deployment left on the local
defaults would look healthy while no patient hears from it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.utils.module_loading import import_string

from sessions.reminders.channels import DEFAULT_SMS_BACKEND, ConsoleSmsBackend, HttpSmsBackend

# Email backends that keep, print or drop a message instead of sending it.
UNDELIVERED_EMAIL_BACKENDS = frozenset(
    {
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
    }
)

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})


@register(deploy=True)
def reminder_delivery_check(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    errors: list[CheckMessage] = []
    sms_path = getattr(settings, "REMINDER_SMS_BACKEND", DEFAULT_SMS_BACKEND)
    try:
        sms_class = import_string(sms_path)
    except ImportError:
        sms_class = None
        errors.append(
            Error(
                f"REMINDER_SMS_BACKEND {sms_path!r} cannot be imported.",
                id="reminders.E001",
            )
        )
    is_class = isinstance(sms_class, type)
    if is_class and issubclass(sms_class, ConsoleSmsBackend):
        errors.append(
            Error(
                "SMS reminders only go to the log: REMINDER_SMS_BACKEND is the console backend.",
                hint=(
                    "Set REMINDER_SMS_BACKEND=sessions.reminders.channels.HttpSmsBackend with "
                    "REMINDER_SMS_HTTP_URL and REMINDER_SMS_HTTP_TOKEN of your SMS provider."
                ),
                id="reminders.E002",
            )
        )
    http_sms = is_class and issubclass(sms_class, HttpSmsBackend)
    if http_sms and not getattr(settings, "REMINDER_SMS_HTTP_URL", ""):
        errors.append(
            Error(
                "The HTTP SMS backend has no provider: REMINDER_SMS_HTTP_URL is empty.",
                id="reminders.E003",
            )
        )
    longest_send = max(settings.REMINDER_SMS_HTTP_TIMEOUT, settings.EMAIL_TIMEOUT or 0)
    if longest_send >= settings.REMINDER_LEASE_SECONDS:
        errors.append(
            Error(
                "A reminder's lease ends before its send can time out: another worker would "
                "send it again while the first is still waiting.",
                hint="Make REMINDER_LEASE_SECONDS longer than REMINDER_SMS_HTTP_TIMEOUT and "
                "EMAIL_TIMEOUT.",
                id="reminders.E005",
            )
        )
    if settings.EMAIL_BACKEND in UNDELIVERED_EMAIL_BACKENDS:
        errors.append(
            Error(
                f"Email reminders are not sent: EMAIL_BACKEND is {settings.EMAIL_BACKEND}.",
                hint="Set EMAIL_URL, e.g. smtp+tls://user:password@mail.example.org:587.",
                id="reminders.E004",
            )
        )
    host = urlsplit(settings.SITE_URL).hostname or ""
    if host in LOCAL_HOSTS or not host:
        errors.append(
            Error(
                f"The links in reminders lead to this machine: SITE_URL is {settings.SITE_URL!r}.",
                hint="Set SITE_URL to the address patients reach, e.g. https://practice.example.org.",
                id="reminders.E006",
            )
        )
    return errors
