"""Patients pages under /p/<practice_slug>/ (included by practice.urls)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from patients import rights_pages, views

app_name = "patients"

urlpatterns: list[URLPattern | URLResolver] = [
    path("patients/", views.patient_list, name="patient-list"),
    path("patients/new/", views.patient_new, name="patient-new"),
    path("patients/<int:pk>/", views.patient_detail, name="patient-detail"),
    path("patients/<int:pk>/edit/", views.patient_edit, name="patient-edit"),
    path("patients/<int:pk>/access/", views.patient_access, name="patient-access"),
    path("patients/<int:pk>/export/", rights_pages.patient_export_view, name="patient-export"),
    path("patients/<int:pk>/erase/", rights_pages.patient_erase_view, name="patient-erase"),
    path("patients/<int:pk>/archive/", views.patient_archive_view, name="patient-archive"),
    path("patients/<int:pk>/screenings/new/", views.screening_new, name="screening-new"),
    path(
        "patients/<int:pk>/screenings/<int:screening_pk>/confirm/",
        views.screening_confirm_view,
        name="screening-confirm",
    ),
    path(
        "patients/<int:pk>/screenings/<int:screening_pk>/clearances/new/",
        views.clearance_new,
        name="clearance-new",
    ),
    path("clearances/<int:pk>/document/", views.clearance_document, name="clearance-document"),
    path("me/", views.portal, name="portal"),
    path("me/contact/", views.portal_contact, name="portal-contact"),
    path("me/export/", rights_pages.portal_export, name="portal-export"),
    path("me/screening/", views.portal_screening_new, name="portal-screening-new"),
    path("me/screenings/<int:pk>/", views.portal_screening, name="portal-screening"),
]
