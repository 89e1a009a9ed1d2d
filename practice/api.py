"""What every API view shares: practice-scoped related fields, the practice and membership
serializers, the JSON parser, and small field helpers (days and moments of the calendar)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import IO, Any

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, pagination, parsers, permissions, serializers, throttling
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject, RelatedField
from rest_framework.request import Request

from practice.calendar import year_error
from practice.models import Membership, Practice, Role
from practice.tenancy import PracticeAPIRequest

# Fields whose output needs nothing but the value: no request, no context, no parent.
CONTEXT_FREE_FIELDS = (
    serializers.BooleanField,
    serializers.CharField,
    serializers.ChoiceField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.DecimalField,
    serializers.IntegerField,
    serializers.PrimaryKeyRelatedField,
    serializers.ReadOnlyField,
    serializers.TimeField,
)


class FieldsBuiltOnce(serializers.Serializer):
    """Output with the fields built once per class rather than once per instance.

    A ModelSerializer builds its fields from the model on every instantiation: 22 fields cost
    more than the query that reads the row. Output of context-free fields needs none of that
    per request, so the first instance's readable fields serve every later one. Only for
    serializers whose fields are the same for every request; input validation still builds
    its own. A field that could read the request or context refuses the class at first use.
    """

    @property
    def _readable_fields(self) -> list[serializers.Field]:
        built: list[serializers.Field] | None = type(self).__dict__.get("_built_readable_fields")
        if built is None:
            built = [field for field in self.fields.values() if not field.write_only]
            for field in built:
                if not isinstance(field, CONTEXT_FREE_FIELDS):
                    raise TypeError(
                        f"{type(self).__name__}.{field.field_name} ({type(field).__name__}) "
                        "may depend on the request: it cannot be built once."
                    )
            type(self)._built_readable_fields = built  # type: ignore[attr-defined]
        return built

    @property
    def _plain_attributes(self) -> list[tuple[str, serializers.Field, str | None]]:
        """Each readable field's name, the field, and the one attribute it shows, or None
        where DRF's own `get_attribute` must read it (a relation, a dotted source), built once
        per class."""
        plain: list[tuple[str, serializers.Field, str | None]] | None = type(self).__dict__.get(
            "_built_plain_attributes"
        )
        if plain is None:
            plain = [
                (
                    str(field.field_name),
                    field,
                    field.source_attrs[0]
                    if len(field.source_attrs) == 1 and not isinstance(field, RelatedField)
                    else None,
                )
                for field in self._readable_fields
            ]
            type(self)._built_plain_attributes = plain  # type: ignore[attr-defined]
        return plain

    def to_representation(self, instance: Any) -> dict[str, Any]:
        """DRF's `Serializer.to_representation`, reading a plain attribute straight off the
        instance: DRF's general lookup (dotted paths, mappings, defaults) was a third of the
        output's time on a page of 20 patients."""
        if isinstance(instance, Mapping):
            return dict(super().to_representation(instance))
        row: dict[str, Any] = {}
        for name, field, attribute in self._plain_attributes:
            if attribute is None:
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
                shown = value.pk if isinstance(value, PKOnlyObject) else value
            else:
                value = shown = getattr(instance, attribute)
                if callable(value):
                    value = shown = value()
            row[name] = None if shown is None else field.to_representation(value)
        return row


class PracticeSerializer(serializers.ModelSerializer):
    time_zone = serializers.CharField(source="settings.time_zone")

    class Meta:
        model = Practice
        fields = ["id", "name", "slug", "time_zone"]


class MembershipSerializer(serializers.ModelSerializer):
    practice = PracticeSerializer()

    class Meta:
        model = Membership
        fields = ["practice", "role"]


class UserWriteRateThrottle(throttling.UserRateThrottle):
    """The signed-in user's rate limit, counted on writes only: reads change nothing and are
    scoped to the user's own practice, so counting them in Redis would only slow them down."""

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class ListCursorPagination(pagination.CursorPagination):
    """Pages of a list that grows without bound, by cursor: `next` and `previous` links and no
    total. A page number needs a COUNT(*) over the whole list on every page (13.7 ms at 100k
    patients, against 0.07 ms for the page itself); a cursor reads the page only. Lists
    whose total is cheap keep DRF's page numbers. Subclasses give the `ordering`, which must
    end in a unique field so no row is skipped or repeated between pages."""

    ordering: tuple[str, ...]
    page_size_query_param = "page_size"
    max_page_size = 100


def is_patient(request: PracticeAPIRequest) -> bool:
    return request.membership.role == Role.PATIENT


class ScopedFieldsSerializer(serializers.Serializer):
    """Related fields choose only among the request's practice's rows, so another practice's
    ids are simply "not found". `scope()` may narrow a field further for the requester."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Without a request, or before its practice is resolved, there is nothing to scope by.
        request: PracticeAPIRequest | None = self.context.get("request")
        if request is None or getattr(request, "practice", None) is None:
            return
        for field in self.fields.values():
            # Related fields are the ones that choose among rows (a many=True field keeps its
            # own, as it always has). get_queryset() is the field's queryset, or None when it
            # is read-only.
            if not isinstance(field, serializers.RelatedField):
                continue
            queryset = field.get_queryset()
            if queryset is not None:
                scoped = self.scope(queryset.filter(practice=request.practice), request)
                # The stubs type `queryset` as possibly a Manager, which is a descriptor, so
                # mypy takes setting the attribute for a call of Manager.__get__.
                field.queryset = scoped  # type: ignore[arg-type]

    def scope(self, queryset: QuerySet[Any], request: PracticeAPIRequest) -> QuerySet[Any]:
        return queryset


def renamed(fields: dict, **names: str) -> dict:
    """Parameters named like Python keywords (`from`): declared as `from_`, shown as `from`."""
    for public, declared in names.items():
        fields[public] = fields.pop(declared)
    return fields


def status_field(choices: type[models.TextChoices], **kwargs: Any) -> serializers.Field:
    """A status, described as a plain string: several apps have a `status` field with
    different choices, and drf-spectacular names every such enum "StatusEnum", so they would
    collide (until settings.ENUM_NAME_OVERRIDES names them)."""
    values = ", ".join(choices.values)

    @extend_schema_field({"type": "string", "description": f"One of: {values}."})
    class StatusField(serializers.ChoiceField):
        pass

    return StatusField(choices=choices.choices, **kwargs)


class JSONParser(parsers.JSONParser):
    """DRF's parser, except that a body nested deeper than Python's recursion limit (`[`
    5,000 times) is a 400 like any other malformed JSON: the standard library's decoder
    raises RecursionError there, which DRF lets through as a 500."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(_("The JSON body is nested too deeply.")) from exc


def in_calendar_years(value: date) -> None:
    """Days and moments of the calendar stay in the years it computes with: the services add
    days and durations to them, which would overflow near year 1 or 9999 (a 500)."""
    year_error(value.year)


class DayField(serializers.DateField):
    """A day of the practice's calendar: a query's range, a course's start, a screening's."""

    default_validators = [in_calendar_years]


class MomentField(serializers.DateTimeField):
    """A moment of the practice's calendar: a session's start."""

    default_validators = [in_calendar_years]
