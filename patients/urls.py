from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from patients.api import PatientViewSet
from patients.screening_api import ContraindicationViewSet, ScreeningViewSet

router = SimpleRouter()
router.register("patients", PatientViewSet, basename="patient")
router.register("contraindications", ContraindicationViewSet, basename="contraindication")

screenings = ScreeningViewSet.as_view({"get": "list", "post": "create"})
screening = ScreeningViewSet.as_view({"get": "retrieve"})
screening_clearances = ScreeningViewSet.as_view({"post": "clearances"})

urlpatterns: list[URLPattern | URLResolver] = [
    *router.urls,
    path(
        "patients/<int:patient_pk>/screenings/",
        screenings,
        name="patient-screening-list",
    ),
    path(
        "patients/<int:patient_pk>/screenings/<int:pk>/",
        screening,
        name="patient-screening-detail",
    ),
    path(
        "patients/<int:patient_pk>/screenings/<int:pk>/clearances/",
        screening_clearances,
        name="patient-screening-clearances",
    ),
]
