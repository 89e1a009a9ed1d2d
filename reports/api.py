"""The reports over the API, read-only and for managers: the list of reports, and one report's
tables for a period (the same figures as the pages and their CSV)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from practice.api import DayField, renamed
from practice.permissions import IsManager, practice_request
from reports.period import GROUPING_CHOICES, period_from
from reports.registry import Kind, Report, registry


class PeriodQuerySerializer(serializers.Serializer):
    from_ = DayField(
        required=False,
        help_text=_("First day, the practice's local date; three months before `to` if omitted."),
    )
    to = DayField(required=False, help_text=_("Last day, included; today if omitted."))
    group = serializers.ChoiceField(
        choices=GROUPING_CHOICES,
        required=False,
        help_text=_("Count by week or by month (reports that count by period); month if omitted."),
    )

    def get_fields(self) -> dict:
        return renamed(super().get_fields(), **{"from": "from_"})

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        practice = self.context["practice"]
        # A Django ValidationError naming the fields: the API's handler makes it a 400.
        attrs["period"] = period_from(
            first=attrs.get("from"),
            last=attrs.get("to"),
            grouping=attrs.get("group"),
            today=timezone.localdate(timezone=practice.zone),
        )
        return attrs


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=[(kind.value, kind.value) for kind in Kind],
        help_text=_(
            "text, date (YYYY-MM-DD), count, hours (decimal hours) or ratio (0 to 1, null "
            "when there is nothing to divide by)."
        ),
    )

    def get_fields(self) -> dict:
        # `label` is an attribute every field has already, so it is added here rather than
        # declared on the class; after `key`, as the schema lists it.
        key, *rest = super().get_fields().items()
        return dict([key, ("label", serializers.CharField()), *rest])


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [{"type": "string"}, {"type": "number"}],
            "nullable": True,
        },
        "description": "One value per column, by the column's key.",
    }
)
class RowField(serializers.DictField):
    pass


class TableSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    note = serializers.CharField()
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(child=RowField(), source="as_dicts")


class ReportSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    grouped = serializers.BooleanField(help_text=_("Whether `group` applies to it."))
    tables = serializers.ListField(child=serializers.CharField(), source="table_keys")


class ReportResultSerializer(serializers.Serializer):
    report = ReportSerializer()
    from_ = serializers.DateField(source="period.first")
    to = serializers.DateField(source="period.last")
    group = serializers.CharField(source="period.grouping")
    tables = TableSerializer(many=True)

    def get_fields(self) -> dict:
        return renamed(super().get_fields(), **{"from": "from_"})


class ReportListView(APIView):
    """The reports a manager may read."""

    permission_classes = [IsManager]

    @extend_schema(responses=ReportSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ReportSerializer(registry.all(), many=True).data)


def _slugs() -> list[str]:
    return [report.slug for report in registry.all()]


class ReportView(APIView):
    """One report for a period in the practice's time zone (R24): its tables of figures, the
    same as the report pages and their CSV. Managers only."""

    permission_classes = [IsManager]

    @extend_schema(
        parameters=[
            PeriodQuerySerializer,
            OpenApiParameter("report", str, OpenApiParameter.PATH, enum=_slugs()),
        ],
        responses=ReportResultSerializer,
    )
    def get(self, request: Request, report: str) -> Response:
        practice = practice_request(request).practice
        found: Report | None = registry.get(report)
        if found is None:
            raise Http404
        query = PeriodQuerySerializer(data=request.query_params, context={"practice": practice})
        query.is_valid(raise_exception=True)
        period = query.validated_data["period"]
        body = {
            "report": found,
            "period": period,
            "tables": found.tables(practice=practice, period=period),
        }
        return Response(ReportResultSerializer(body).data)
