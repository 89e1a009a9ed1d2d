"""What every API view shares: practice-scoped querysets and related fields, and small
field helpers."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from practice.models import Membership, Practice, PracticeOwnedQuerySet, Role


class PracticeScopedMixin:
    """Views over practice-owned rows: the queryset is always the request's practice's."""

    def get_queryset(self) -> PracticeOwnedQuerySet:
        return super().get_queryset().for_practice(self.request.practice)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.save(practice=self.request.practice)


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


def is_patient(request: Request) -> bool:
    return request.membership.role == Role.PATIENT


class ScopedFieldsSerializer(serializers.Serializer):
    """Related fields choose only among the request's practice's rows, so another practice's
    ids are simply "not found". `scope()` may narrow a field further for the requester."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        practice = getattr(request, "practice", None)
        if request is None or practice is None:
            return
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is not None:
                field.queryset = self.scope(queryset.for_practice(practice), request)

    def scope(self, queryset: QuerySet, request: Request) -> QuerySet:
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
