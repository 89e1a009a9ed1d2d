"""Audit entries in the back office: read-only for everyone, a manager's own practices only."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from practice.admin import PracticeScopedAdmin
from practice.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(PracticeScopedAdmin):
    list_display = ("at", "action", "model", "object_id", "patient_id", "user", "ip")
    list_filter = ("practice", "action", "model")
    list_select_related = ("user",)
    date_hierarchy = "at"
    search_fields = ("=object_id", "=patient_id")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
