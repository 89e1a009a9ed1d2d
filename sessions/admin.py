from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from patients.screening import Effect
from practice.admin import PracticeScopedAdmin
from sessions.models import CheckIn, Reminder, Session, SessionRecord
from sessions.reminders import reminders_retry


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


class ReadOnlyRecordAdmin(PracticeScopedAdmin):
    """What was said and done on the session day is a clinical record: written only by the
    session-day services (which apply R7, R8, R15-R18, R20), never edited afterwards."""

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyRecordAdmin):
    list_display = ("created_at", "session", "systolic", "diastolic", "temperature", "blocked")
    list_filter = ("practice",)
    search_fields = ("session__patient__family_name", "session__patient__given_name")
    date_hierarchy = "created_at"
    list_select_related = (
        "session__patient",
        "session__therapist",
        "session__practice",
        "practice",
    )
    readonly_fields = (
        "practice",
        "session",
        "answers",
        "temperature",
        "systolic",
        "diastolic",
        "pulse",
        "blocked_by",
        "checked_in_by",
        "created_at",
    )

    @admin.display(boolean=True, description=_("stopped the session"))
    def blocked(self, check_in: CheckIn) -> bool:
        # Zone findings (R3) close a zone, not the session.
        return any(finding.get("effect") != Effect.ZONE for finding in check_in.blocked_by)


@admin.register(SessionRecord)
class SessionRecordAdmin(ReadOnlyRecordAdmin):
    list_display = ("created_at", "session", "pressure", "direction", "pain_before", "pain_after")
    list_filter = ("practice", "pressure", "direction")
    search_fields = ("session__patient__family_name", "session__patient__given_name")
    date_hierarchy = "created_at"
    list_select_related = (
        "session__patient",
        "session__therapist",
        "session__practice",
        "practice",
    )
    readonly_fields = (
        "practice",
        "session",
        "techniques",
        "zones",
        "pressure",
        "direction",
        "systolic_before",
        "diastolic_before",
        "systolic_after",
        "diastolic_after",
        "pain_before",
        "pain_after",
        "notes",
        "recorded_by",
        "created_at",
    )


@admin.register(Reminder)
class ReminderAdmin(PracticeScopedAdmin):
    """The outbox (R21, R22): what was sent, what is waiting, and what failed and why. Rows are
    written by booking, moving and cancelling; here they are only read, or failed ones retried."""

    list_display = (
        "due_at",
        "patient",
        "kind",
        "channel",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    )
    list_filter = ("practice", "status", "kind", "channel")
    search_fields = ("patient__family_name", "patient__given_name", "patient__email")
    date_hierarchy = "due_at"
    list_select_related = ("patient", "practice")
    actions = ["retry"]
    readonly_fields = (
        "practice",
        "patient",
        "session",
        "course",
        "kind",
        "channel",
        "due_at",
        "send_after",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "provider_message_id",
        "dedupe_key",
        "session_version",
        "details",
        "created_at",
        "updated_at",
    )

    @admin.action(description=_("Retry the selected failed reminders"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> None:
        count = reminders_retry(queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d failed reminder queued again.",
                "%(count)d failed reminders queued again.",
                count,
            )
            % {"count": count},
        )

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Read-only rows; the action still runs, since it needs only the view permission.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
