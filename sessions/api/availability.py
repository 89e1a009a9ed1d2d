"""Bookable times over the API (R23): one therapist, or any qualified therapist, for a range of
days, from `sessions.availability` - the same computation as the desk's pages and the portal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from patients.api import PatientScopedSerializer
from practice.api import DayField, renamed
from practice.models import MassageType, Room, Therapist
from practice.permissions import IsPracticeMember
from practice.tenancy import PracticeAPIRequest
from sessions.availability import availability
from sessions.booking.sessions import (
    MIN_SESSION_MINUTES,
)
from sessions.models import MAX_SESSION_MINUTES

if TYPE_CHECKING:
    # A type alias only: django-stubs-ext is a development requirement.
    from django_stubs_ext import StrOrPromise

# A range longer than a quarter (plus a few days) is refused: availability is computed, not
# stored, and this bounds what one request may ask for.
MAX_RANGE_DAYS = 92


class AvailabilityQuerySerializer(PatientScopedSerializer):
    therapist = serializers.PrimaryKeyRelatedField(
        queryset=Therapist.objects.filter(active=True), required=False
    )
    massage_type = serializers.PrimaryKeyRelatedField(
        queryset=MassageType.objects.filter(active=True), required=False
    )
    room = serializers.PrimaryKeyRelatedField(
        queryset=Room.objects.filter(active=True), required=False
    )
    from_ = DayField(help_text=_("First day (the practice's local date)."))
    to = DayField(help_text=_("Last day, included."))
    duration = serializers.IntegerField(
        min_value=MIN_SESSION_MINUTES,
        max_value=MAX_SESSION_MINUTES,
        required=False,
        help_text=_("Minutes; the massage type's default when omitted."),
    )

    def get_fields(self) -> dict:
        return renamed(super().get_fields(), **{"from": "from_"})

    def validate(self, attrs: dict) -> dict:
        errors: dict[str, StrOrPromise] = {}
        therapist, massage_type = attrs.get("therapist"), attrs.get("massage_type")
        if therapist is None and massage_type is None:
            errors["therapist"] = _("Give a therapist or a massage type.")
        if attrs["to"] < attrs["from"]:
            errors["to"] = _("The end must not be before the start.")
        elif (attrs["to"] - attrs["from"]).days + 1 > MAX_RANGE_DAYS:
            errors["to"] = _("Ask for at most %(n)d days at once.") % {"n": MAX_RANGE_DAYS}
        if "duration" not in attrs and massage_type is None:
            errors["duration"] = _("Give a duration or a massage type.")
        if (
            therapist is not None
            and massage_type is not None
            and not therapist.massage_types.filter(pk=massage_type.pk).exists()
        ):
            errors["massage_type"] = _("This therapist is not qualified for this massage type.")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    therapists = serializers.ListField(child=serializers.IntegerField(), source="therapist_ids")


class AvailabilitySerializer(serializers.Serializer):
    time_zone = serializers.CharField()
    duration = serializers.IntegerField()
    slots = SlotSerializer(many=True)


class AvailabilityView(GenericAPIView):
    """Bookable start times (R23), in the practice's time zone (R24)."""

    permission_classes = [IsPracticeMember]
    serializer_class = AvailabilitySerializer

    @extend_schema(parameters=[AvailabilityQuerySerializer], responses=AvailabilitySerializer)
    def get(self, request: PracticeAPIRequest) -> Response:
        query = AvailabilityQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        practice = request.practice
        if data.get("therapist") is not None:
            therapist_ids = [data["therapist"].pk]
        else:
            therapist_ids = list(
                Therapist.objects.for_practice(practice)
                .filter(active=True, massage_types=data["massage_type"])
                .values_list("pk", flat=True)
            )
        minutes = data.get("duration") or data["massage_type"].default_minutes
        slots = availability(
            practice=practice,
            therapist_ids=therapist_ids,
            first=data["from"],
            last=data["to"],
            minutes=minutes,
            now=timezone.now(),
            room=data.get("room"),
            massage_type_id=data["massage_type"].pk if data.get("massage_type") else None,
        )
        body = {"time_zone": practice.settings.time_zone, "duration": minutes, "slots": slots}
        return Response(AvailabilitySerializer(body).data)
