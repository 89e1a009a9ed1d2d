from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from courses.api import CoursePlanView, CourseViewSet

router = SimpleRouter()
router.register("courses", CourseViewSet, basename="course")

urlpatterns: list[URLPattern | URLResolver] = [
    # Before the router, whose `courses/<pk>/` would otherwise take "plan" for a pk.
    path("courses/plan/", CoursePlanView.as_view(), name="course-plan"),
    *router.urls,
]
