"""The front desk's calendar pages under /p/<practice_slug>/ (included by practice.urls)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sessions import views

app_name = "sessions"

urlpatterns: list[URLPattern | URLResolver] = [
    path("calendar/", views.calendar, name="calendar"),
    path("sessions/<int:pk>/", views.session_detail, name="session-detail"),
    path("sessions/<int:pk>/check-in/", views.session_check_in_view, name="session-check-in"),
    path("sessions/<int:pk>/start/", views.session_start_view, name="session-start"),
    path("sessions/<int:pk>/complete/", views.session_complete_view, name="session-complete"),
    path("sessions/<int:pk>/no-show/", views.session_no_show_view, name="session-no-show"),
    path("sessions/<int:pk>/move/", views.session_move, name="session-move"),
    path("sessions/<int:pk>/cancel/", views.session_cancel_view, name="session-cancel"),
    path("sessions/<int:pk>/cancelled/", views.session_cancelled, name="session-cancelled"),
    path("sessions/<int:pk>/rebook/", views.session_rebook, name="session-rebook"),
]
