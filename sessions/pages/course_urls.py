"""The front desk's course pages under /p/<practice_slug>/ (included by practice.urls)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sessions.pages import courses

app_name = "courses"

urlpatterns: list[URLPattern | URLResolver] = [
    path("courses/", courses.course_list_view, name="course-list"),
    path("courses/plan/", courses.course_plan_view, name="course-plan"),
    path("courses/due/", courses.courses_due_view, name="courses-due"),
    path("courses/<int:pk>/", courses.course_detail, name="course-detail"),
    path("courses/<int:pk>/cancel/", courses.course_cancel_view, name="course-cancel"),
]
