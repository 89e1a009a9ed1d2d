"""The reports' API under /api/v1/ (included by practice.urls)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from reports.api import ReportListView, ReportView

urlpatterns: list[URLPattern | URLResolver] = [
    path("reports/", ReportListView.as_view(), name="report-list"),
    path("reports/<slug:report>/", ReportView.as_view(), name="report"),
]
