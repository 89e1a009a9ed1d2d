from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from sessions.api import AvailabilityView, SessionViewSet

router = SimpleRouter()
router.register("sessions", SessionViewSet, basename="session")

urlpatterns: list[URLPattern | URLResolver] = [
    path("availability/", AvailabilityView.as_view(), name="availability"),
    *router.urls,
]
