"""The practice and its catalogue over the API: what an app shows before anyone books.

The practice (address, phone, time zone, cancellation and booking policies), its massage types
(named in the reader's language, with minutes, price and whether patients may book them
online), its therapists (with the types they give) and, for staff, its rooms. Read-only,
scoped to the request's practice, and answered conditionally (`practice.api_caching`).

Patients see what they may choose from (active types and therapists); staff see every row,
with whether it is active.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from practice.api_caching import Cacheable
from practice.models import MassageType, Practice, Room, Therapist
from practice.permissions import IsPracticeMember, IsStaff, practice_request, request_membership
from practice.prices import prices_changed_at, with_current_price


class PoliciesSerializer(serializers.Serializer):
    cancellation_notice_hours = serializers.IntegerField(
        help_text=_("Cancelling later than this before a session counts as a late cancellation.")
    )
    booking_horizon_days = serializers.IntegerField(
        help_text=_("How many days ahead sessions can be booked.")
    )


class PracticeDetailSerializer(serializers.ModelSerializer):
    time_zone = serializers.CharField(source="settings.time_zone")
    address = serializers.CharField(source="settings.address")
    phone = serializers.CharField(source="settings.phone")
    currency = serializers.CharField(
        source="settings.currency", help_text=_("ISO 4217: the currency of the prices.")
    )
    policies = PoliciesSerializer(source="settings")

    class Meta:
        model = Practice
        fields = ["id", "name", "slug", "time_zone", "address", "phone", "currency", "policies"]


class MassageTypeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        source="display_name",
        read_only=True,
        help_text=_("In the language of the request (Accept-Language)."),
    )
    minutes = serializers.IntegerField(source="default_minutes", read_only=True)
    price = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        allow_null=True,
        read_only=True,
        help_text=_(
            "The price in force now for the type's default minutes, in the practice's "
            "currency; null: on request."
        ),
    )
    currency = serializers.CharField(source="practice.settings.currency", read_only=True)

    class Meta:
        model = MassageType
        fields = ["id", "code", "name", "minutes", "price", "currency", "online_bookable", "active"]
        read_only_fields = fields


class TherapistSerializer(serializers.ModelSerializer):
    massage_types: serializers.PrimaryKeyRelatedField[MassageType] = (
        serializers.PrimaryKeyRelatedField(
            many=True, read_only=True, help_text=_("The massage types they give (ids).")
        )
    )
    photo_url = serializers.SerializerMethodField()

    class Meta:
        model = Therapist
        fields = ["id", "name", "massage_types", "photo_url", "active"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_photo_url(self, therapist: Therapist) -> str | None:
        return therapist.photo_url or None


class RoomSerializer(serializers.ModelSerializer):
    class Meta:
        model = Room
        fields = ["id", "name", "active"]
        read_only_fields = fields


class MassageTypeFilter(django_filters.FilterSet):
    class Meta:
        model = MassageType
        fields = ["online_bookable", "active"]


class TherapistFilter(django_filters.FilterSet):
    massage_type = django_filters.NumberFilter(
        field_name="massage_types", label=_("Only therapists who give this massage type (id).")
    )

    class Meta:
        model = Therapist
        fields = ["massage_type", "active"]


class PracticeView(Cacheable, GenericAPIView):
    """The practice this request acts for: contact details, time zone and policies."""

    permission_classes = [IsPracticeMember]
    serializer_class = PracticeDetailSerializer

    def last_modified(self) -> datetime | None:
        practice = practice_request(self.request).practice
        return max(practice.updated_at, practice.settings.updated_at)

    @extend_schema(responses=PracticeDetailSerializer)
    def get(self, request: Request) -> Response:
        # Loaded with the membership, with its settings (`practice.tenancy`): no query here.
        return Response(self.get_serializer(practice_request(request).practice).data)


class CatalogueViewSet(Cacheable, viewsets.ReadOnlyModelViewSet):
    """Rows of the request's practice; a patient sees the active ones only."""

    permission_classes = [IsPracticeMember]

    def scoped(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        membership = request_membership(self.request)
        rows = rows.for_practice(membership.practice)  # type: ignore[attr-defined]
        return rows if membership.is_staff_role else rows.filter(active=True)


class MassageTypeViewSet(CatalogueViewSet):
    """The practice's massage types, in rotation order (R12)."""

    serializer_class = MassageTypeSerializer
    filterset_class = MassageTypeFilter
    queryset = MassageType.objects.none()

    def get_queryset(self) -> QuerySet[MassageType]:
        return self.scoped(
            with_current_price(MassageType.objects.select_related("practice__settings"))
        )

    def last_modified(self) -> datetime | None:
        """A new price, or one coming into force, changes the catalogue too."""
        changes = [
            super().last_modified(),
            prices_changed_at(practice_request(self.request).practice.pk),
        ]
        return max((moment for moment in changes if moment is not None), default=None)


class TherapistViewSet(CatalogueViewSet):
    """The practice's therapists and the massage types each gives."""

    serializer_class = TherapistSerializer
    filterset_class = TherapistFilter
    queryset = Therapist.objects.none()

    def get_queryset(self) -> QuerySet[Therapist]:
        types = Prefetch("massage_types", queryset=MassageType.objects.only("pk"))
        return self.scoped(Therapist.objects.prefetch_related(types))


class RoomViewSet(CatalogueViewSet):
    """The practice's rooms (staff only)."""

    permission_classes = [IsStaff]
    serializer_class = RoomSerializer
    filterset_fields = ["active"]
    queryset = Room.objects.none()

    def get_queryset(self) -> QuerySet[Room]:
        return self.scoped(Room.objects.all())
