"""The API's course and session endpoints under /api/v1/ (included by practice.urls)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from sessions.api.availability import AvailabilityView
from sessions.api.calendar import (
    CalendarEventsView,
    CalendarFreeView,
    CalendarMoveView,
    CalendarResourcesView,
)
from sessions.api.courses import CoursePlanView, CoursesDueView, CourseViewSet
from sessions.api.sessions import SessionViewSet
from sessions.api.waitlist import WaitlistEntryViewSet

courses = SimpleRouter()
courses.register("courses", CourseViewSet, basename="course")
sessions = SimpleRouter()
sessions.register("sessions", SessionViewSet, basename="session")
sessions.register("waitlist", WaitlistEntryViewSet, basename="waitlist-entry")

urlpatterns: list[URLPattern | URLResolver] = [
    # Before the router, whose `courses/<pk>/` would otherwise take "plan" or "due" for a pk.
    path("courses/plan/", CoursePlanView.as_view(), name="course-plan"),
    path("courses/due/", CoursesDueView.as_view(), name="courses-due"),
    *courses.urls,
    path("availability/", AvailabilityView.as_view(), name="availability"),
    path("calendar/resources/", CalendarResourcesView.as_view(), name="calendar-resources"),
    path("calendar/events/", CalendarEventsView.as_view(), name="calendar-events"),
    path("calendar/free/", CalendarFreeView.as_view(), name="calendar-free"),
    path("calendar/sessions/<int:pk>/move/", CalendarMoveView.as_view(), name="calendar-move"),
    *sessions.urls,
]
