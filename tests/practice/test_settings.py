from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k3Jx9q-Vw2m8Zr4t7yB1nF6hL0sD5gA2cE9uP3oI8wQ7eR4tY1",
    "ALLOWED_HOSTS": "practice.example.com",
    "DATABASE_URL": "postgres://app:secret@db.example.com:5432/practice",
    "REDIS_URL": "redis://cache.example.com:6379/0",
    "PRACTICE_TIME_ZONE": "America/New_York",
    "NUM_PROXIES": "1",
    # Reminders really leave (R21): an SMS provider and an SMTP server.
    "REMINDER_SMS_BACKEND": "sessions.reminders.channels.HttpSmsBackend",
    "REMINDER_SMS_HTTP_URL": "https://sms.example.com/v1/messages",
    "REMINDER_SMS_HTTP_TOKEN": "provider-token",
    "EMAIL_URL": "smtp+tls://practice:s3cret%21@mail.example.com:587",
    "SITE_URL": "https://practice.example.com",
}


def run_with(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # Start from this process's environment without anything the settings read, nor the
    # browser tests' async escape hatch (which check --deploy rightly refuses).
    dropped = {*PRODUCTION_ENV, "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "EMAIL_BACKEND"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


SHOW_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "debug": settings.DEBUG, "hosts": settings.ALLOWED_HOSTS, "engine": db["ENGINE"],
    "db_host": db.get("HOST"), "broker": settings.CELERY_BROKER_URL, "tz": settings.TIME_ZONE,
    "use_tz": settings.USE_TZ, "cache": settings.CACHES["default"]["BACKEND"],
    "num_proxies": settings.REST_FRAMEWORK["NUM_PROXIES"],
}))
"""


def test_it_reads_settings_from_the_environment() -> None:
    result = run_with(
        {**PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "practice.settings"}, "-c", SHOW_SETTINGS
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown == {
        "debug": False,
        "hosts": ["practice.example.com"],
        "engine": "django.db.backends.postgresql",
        "db_host": "db.example.com",
        "broker": "redis://cache.example.com:6379/0",
        "tz": "America/New_York",
        "use_tz": True,
        "cache": "django.core.cache.backends.redis.RedisCache",
        "num_proxies": 1,
    }


def test_it_defaults_to_sqlite_and_a_serverless_broker() -> None:
    # What `make run` gets on a laptop: DEBUG on and nothing else, not even a key.
    result = run_with(
        {"DJANGO_SETTINGS_MODULE": "practice.settings", "DEBUG": "true"}, "-c", SHOW_SETTINGS
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["engine"] == "django.db.backends.sqlite3"
    assert shown["broker"] == "filesystem://"
    assert shown["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    # Without a proxy declared, the throttles count REMOTE_ADDR, never X-Forwarded-For.
    assert shown["num_proxies"] == 0


@pytest.mark.parametrize(
    "secret_key",
    [None, "", "local-only-insecure-key-change-me-in-production"],
    ids=["unset", "empty", "the-development-key"],
)
def test_it_refuses_to_start_with_debug_off_and_no_real_secret_key(secret_key: str | None) -> None:
    env = {"DJANGO_SETTINGS_MODULE": "practice.settings", "DEBUG": "false"}
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key

    result = run_with(env, "-c", SHOW_SETTINGS)

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr
    assert result.stdout == ""


def test_check_deploy_is_clean_with_production_values() -> None:
    result = run_with(PRODUCTION_ENV, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_r21_check_deploy_refuses_reminders_that_never_leave() -> None:
    local_delivery = {
        **PRODUCTION_ENV,
        "REMINDER_SMS_BACKEND": "sessions.reminders.channels.ConsoleSmsBackend",
        "EMAIL_URL": "consolemail://",
    }

    result = run_with(local_delivery, "manage.py", "check", "--deploy")

    assert result.returncode == 1
    assert "reminders.E002" in result.stderr
    assert "SMS reminders only go to the log" in result.stderr
    assert "reminders.E004" in result.stderr
    assert "Email reminders are not sent" in result.stderr
    assert "EMAIL_URL" in result.stderr


SHOW_EMAIL = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in (
    "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS", "EMAIL_USE_SSL", "EMAIL_TIMEOUT",
)}))
"""


def test_r21_email_comes_from_email_url_with_a_timeout() -> None:
    result = run_with(
        {**PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "practice.settings"}, "-c", SHOW_EMAIL
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "practice",
        "EMAIL_HOST_PASSWORD": "s3cret!",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 10.0,
    }


def test_r21_without_email_url_email_is_printed() -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "practice.settings",
        "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"],
    }
    result = run_with(env, "-c", SHOW_EMAIL)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert shown["EMAIL_TIMEOUT"] == 10.0
