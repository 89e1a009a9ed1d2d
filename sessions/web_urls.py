"""The front desk's calendar pages under /p/<practice_slug>/ (included by practice.urls)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sessions import views

app_name = "sessions"

urlpatterns: list[URLPattern | URLResolver] = [
    path("calendar/", views.calendar, name="calendar"),
    path("sessions/<int:pk>/move/", views.session_move, name="session-move"),
    path("sessions/<int:pk>/cancel/", views.session_cancel_view, name="session-cancel"),
    path("sessions/<int:pk>/cancelled/", views.session_cancelled, name="session-cancelled"),
    path("sessions/<int:pk>/rebook/", views.session_rebook, name="session-rebook"),
]
