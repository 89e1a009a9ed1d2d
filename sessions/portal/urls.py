"""The patient portal's booking pages under /p/<practice_slug>/ (included by practice.urls),
the staff's "invite to the portal" action and the invitation link."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sessions.portal import accounts, calendar_files, replies, views, waitlist

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    path("me/sessions/", views.my_sessions, name="my-sessions"),
    path("me/sessions/<int:pk>/", views.session_detail, name="session"),
    path("me/sessions/<int:pk>/move/", views.session_move, name="move"),
    path("me/sessions/<int:pk>/cancel/", views.session_cancel_view, name="cancel"),
    path("me/sessions/<int:pk>/session.ics", calendar_files.session_ics_view, name="session-ics"),
    path("me/book/", views.book, name="book"),
    path("me/waitlist/", waitlist.my_waitlist, name="my-waitlist"),
    path(
        "me/waitlist/<int:pk>/withdraw/",
        waitlist.my_waitlist_withdraw,
        name="my-waitlist-withdraw",
    ),
    path("me/calendar-feed/renew/", calendar_files.calendar_feed_renew_view, name="feed-renew"),
    path("calendar-feed/<str:token>.ics", calendar_files.calendar_feed_view, name="feed"),
    path("join/", accounts.signup, name="signup"),
    path("join/verify/<str:token>/", accounts.signup_verify, name="signup-verify"),
    path("join/<str:token>/", accounts.join, name="join"),
    # A reminder's links (R21): no sign-in, the signed token is the credential.
    path("reply/<str:token>/", replies.reply, name="reply"),
    path("reply/<str:token>/confirm/", replies.reply, {"action": "confirm"}, name="reply-confirm"),
    path("reply/<str:token>/cancel/", replies.reply, {"action": "cancel"}, name="reply-cancel"),
    # A waitlist offer's link: no sign-in either.
    path("waitlist/offer/<str:token>/", waitlist.waitlist_offer, name="waitlist-offer"),
    path("patients/<int:pk>/invite/", accounts.invite, name="invite"),
]
