"""The front desk's course pages under /p/<practice_slug>/ (included by practice.urls)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from courses import views

app_name = "courses"

urlpatterns: list[URLPattern | URLResolver] = [
    path("courses/", views.course_list_view, name="course-list"),
    path("courses/plan/", views.course_plan_view, name="course-plan"),
    path("courses/<int:pk>/", views.course_detail, name="course-detail"),
]
