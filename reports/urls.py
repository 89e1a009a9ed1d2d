"""The managers' report pages under /p/<practice_slug>/ (included by practice.urls)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from reports import views

app_name = "reports"

urlpatterns: list[URLPattern | URLResolver] = [
    path("reports/", views.report_index, name="index"),
    path("reports/<slug:slug>/", views.report_page, name="report"),
    path("reports/<slug:slug>/<slug:table>.csv", views.report_csv, name="csv"),
]
