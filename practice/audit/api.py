"""The audit log, read-only, for a practice's managers: GET /api/v1/audit-entries/."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from practice.api import ListCursorPagination
from practice.audit.models import Action, AuditEntry
from practice.audit.selectors import EntryFilter, practice_entries
from practice.permissions import IsManager, practice_request


class AuditEntrySerializer(serializers.ModelSerializer):
    user_email = serializers.EmailField(source="user.email", read_only=True, allow_null=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "action",
            "model",
            "object_id",
            "patient_id",
            "user",
            "user_email",
            "ip",
            "user_agent",
            "fields",
            "values",
            "reason",
        ]
        read_only_fields = fields


# Ids are 64-bit: a larger number is a 400, not a database error.
BIGGEST_ID = 2**63 - 1


class AuditQuerySerializer(serializers.Serializer):
    user = serializers.IntegerField(
        required=False, min_value=1, max_value=BIGGEST_ID, help_text=_("A user's id.")
    )
    model = serializers.CharField(
        required=False, default="", max_length=100, help_text=_("app_label.modelname")
    )
    action = serializers.ChoiceField(choices=Action.choices, required=False)
    since = serializers.DateField(required=False, help_text=_("First day (practice's zone)."))
    until = serializers.DateField(required=False, help_text=_("Last day (practice's zone)."))
    patient = serializers.IntegerField(
        required=False, min_value=1, max_value=BIGGEST_ID, help_text=_("A patient's id.")
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and until < since:
            raise serializers.ValidationError({"until": _("The last day is before the first.")})
        return attrs


class AuditPagination(ListCursorPagination):
    ordering = ("-at", "-id")


@extend_schema(parameters=[AuditQuerySerializer])
class AuditEntryList(generics.ListAPIView):
    """The practice's audit trail, newest first: every write, every read of a patient's
    health data, overrides, exports and erasures. Managers only; entries never change."""

    serializer_class = AuditEntrySerializer
    permission_classes = [IsManager]
    pagination_class = AuditPagination
    queryset = AuditEntry.objects.none()

    def get_queryset(self) -> QuerySet[AuditEntry]:
        if getattr(self, "swagger_fake_view", False):
            return AuditEntry.objects.none()
        query = AuditQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        given = query.validated_data
        return practice_entries(
            practice=practice_request(self.request).practice,
            only=EntryFilter(
                user_id=given.get("user"),
                model=given["model"],
                action=given.get("action", ""),
                since=given.get("since"),
                until=given.get("until"),
                patient_id=given.get("patient"),
            ),
        )
