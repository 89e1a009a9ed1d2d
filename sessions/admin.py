from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from practice.admin import PracticeScopedAdmin
from sessions.models import Session


@admin.register(Session)
class SessionAdmin(PracticeScopedAdmin):
    """Read and annotate sessions; booking and moving go through the API's services, which
    enforce working hours, the buffer and the no-overlap rules (R19, R23)."""

    list_display = ("starts_at", "patient", "therapist", "room", "massage_type", "status")
    list_filter = ("practice", "status", "therapist", "massage_type")
    search_fields = ("patient__family_name", "patient__given_name", "therapist__name")
    date_hierarchy = "starts_at"
    list_select_related = ("patient", "therapist", "room", "massage_type", "practice")
    readonly_fields = (
        "practice",
        "course",
        "sequence",
        "patient",
        "therapist",
        "room",
        "massage_type",
        "starts_at",
        "ends_at",
        "blocks_until",
        "status",
        "schedule_version",
        "cancelled_by",
        "cancelled_at",
        "late_cancellation",
        "booked_by",
    )

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
