"""Audit pages under /p/<practice_slug>/ (included by practice.urls)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from practice.audit import pages

app_name = "audit"

urlpatterns: list[URLPattern | URLResolver] = [
    path("audit/", pages.practice_log, name="practice-log"),
]
