"""The front desk's calendar and session pages under /p/<practice_slug>/ (included by
practice.urls)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sessions.pages import booking, calendar, calendar_grid, my_day, reminders, session, waitlist

app_name = "sessions"

urlpatterns: list[URLPattern | URLResolver] = [
    path("calendar/", calendar.calendar, name="calendar"),
    path("calendar/grid/", calendar_grid.calendar_grid, name="calendar-grid"),
    path("sessions/book/", booking.session_book_view, name="session-book"),
    path("my-day/", my_day.my_day, name="my-day"),
    path("sessions/<int:pk>/", session.session_detail, name="session-detail"),
    path("sessions/<int:pk>/check-in/", session.session_check_in_view, name="session-check-in"),
    path("sessions/<int:pk>/start/", session.session_start_view, name="session-start"),
    path("sessions/<int:pk>/complete/", session.session_complete_view, name="session-complete"),
    path("sessions/<int:pk>/no-show/", session.session_no_show_view, name="session-no-show"),
    path("sessions/<int:pk>/move/", calendar.session_move, name="session-move"),
    path("sessions/<int:pk>/cancel/", calendar.session_cancel_view, name="session-cancel"),
    path("sessions/<int:pk>/cancelled/", calendar.session_cancelled, name="session-cancelled"),
    path("sessions/<int:pk>/rebook/", calendar.session_rebook, name="session-rebook"),
    path("waitlist/", waitlist.waitlist, name="waitlist"),
    path(
        "waitlist/<int:pk>/withdraw/",
        waitlist.waitlist_entry_withdraw_view,
        name="waitlist-withdraw",
    ),
    path(
        "reminders/<int:pk>/send-again/",
        reminders.reminder_send_again_view,
        name="reminder-send-again",
    ),
]
