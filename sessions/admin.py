from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from courses.models import Course
from patients.screening import Effect
from practice.admin import ManagerScope, PracticeScopedAdmin
from practice.errors import Conflict
from practice.tenancy import SignedInRequest
from sessions.booking.courses import course_cancel
from sessions.models import CheckIn, Reminder, Session, SessionRecord
from sessions.reminders.outbox import reminders_retry


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

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyRecordAdmin(PracticeScopedAdmin):
    """What was said and done on the session day is a clinical record: written only by the
    session-day services (which apply R7, R8, R15-R18, R20), never edited afterwards."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
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
        "unknown_outcomes",
        "lease_owner",
        "lease_expires_at",
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

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Read-only rows; the action still runs, since it needs only the view permission.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class CourseSessionInline(ManagerScope, admin.TabularInline):
    model = Session
    fields = ("sequence", "starts_at", "ends_at", "status", "therapist", "room")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("starts_at",)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Course)
class CourseAdmin(PracticeScopedAdmin):
    """Courses are planned and booked through the API and the desk's pages (R9 to R14 live in
    their services); the admin shows them and their sessions, and cancels them. Here rather
    than in courses/ because it shows and cancels the course's sessions."""

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
        "created_by",
        "screening",
        "paused_at",
        "pause_reason",
        # Written only by the course's lifecycle: cancel with the action, which cancels the
        # sessions still to come and their reminders too.
        "status",
    )
    inlines = [CourseSessionInline]
    actions = ["cancel"]

    @admin.action(description=_("Cancel the selected courses and their sessions to come"))
    def cancel(self, request: SignedInRequest, queryset: QuerySet[Course]) -> None:
        cancelled = refused = 0
        for course in queryset:
            try:
                course_cancel(
                    course=course, by=request.user, reason=str(_("Cancelled in the admin."))
                )
            except Conflict:
                refused += 1
            else:
                cancelled += 1
        self.message_user(
            request,
            ngettext("%(count)d course cancelled.", "%(count)d courses cancelled.", cancelled)
            % {"count": cancelled},
        )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(count)d course had already ended and was left as it was.",
                    "%(count)d courses had already ended and were left as they were.",
                    refused,
                )
                % {"count": refused},
                level=messages.WARNING,
            )

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
