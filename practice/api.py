"""What every API view shares: practice-scoped related fields, the practice and membership
serializers, and small field helpers."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from practice.models import Membership, Practice, Role
from practice.tenancy import PracticeAPIRequest


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
