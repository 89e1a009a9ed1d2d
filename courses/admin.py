from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from courses.models import Course
from practice.admin import ManagerPermissions, PracticeScopedAdmin
from sessions.models import Session


class CourseSessionInline(ManagerPermissions, admin.TabularInline):
    model = Session
    fields = ("sequence", "starts_at", "ends_at", "status", "therapist", "room")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("starts_at",)

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False


@admin.register(Course)
class CourseAdmin(PracticeScopedAdmin):
    """Courses are planned and booked through the API (R9 to R14 live in its services); the
    admin shows them and their sessions."""

    list_display = ("patient", "massage_type", "therapist", "start_date", "status", "practice")
    list_filter = ("practice", "status", "massage_type", "therapist")
    search_fields = ("patient__family_name", "patient__given_name", "therapist__name")
    date_hierarchy = "start_date"
    list_select_related = ("patient", "therapist", "massage_type", "practice")
    readonly_fields = (
        "practice",
        "patient",
        "therapist",
        "massage_type",
        "room",
        "sessions_count",
        "cadence",
        "start_date",
        "preferred_time",
        "warnings",
        "override_reasons",
        "created_by",
        "screening",
        "paused_at",
        "pause_reason",
    )
    inlines = [CourseSessionInline]

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
