"""The patient portal's booking pages under /p/<practice_slug>/ (included by practice.urls),
the staff's "invite to the portal" action and the invitation link."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sessions import portal

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    path("me/sessions/", portal.my_sessions, name="my-sessions"),
    path("me/sessions/<int:pk>/", portal.session_detail, name="session"),
    path("me/sessions/<int:pk>/move/", portal.session_move, name="move"),
    path("me/sessions/<int:pk>/cancel/", portal.session_cancel_view, name="cancel"),
    path("me/sessions/<int:pk>/session.ics", portal.session_ics_view, name="session-ics"),
    path("me/book/", portal.book, name="book"),
    path("calendar-feed/<str:token>.ics", portal.calendar_feed_view, name="feed"),
    path("join/<str:token>/", portal.join, name="join"),
    path("patients/<int:pk>/invite/", portal.invite, name="invite"),
]
