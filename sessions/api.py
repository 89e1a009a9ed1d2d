"""Availability and sessions API. Thin views: input serializer, one service, output serializer.

Staff act for any patient of their practice; a patient only for their own record: the
`patient` field's choices are narrowed to it, and the querysets to their own rows.
"""

from __future__ import annotations

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from courses.models import MAX_SESSIONS, Course
from patients.models import Patient
from practice.models import MassageType, Role, Room, Therapist
from practice.permissions import IsPracticeMember
from sessions.availability import availability
from sessions.models import MAX_SESSION_MINUTES, Session, SessionStatus
from sessions.selectors import session_list
from sessions.services import (
    MIN_SESSION_MINUTES,
    session_book,
    session_cancel,
    session_reschedule,
)

TAKEN = OpenApiResponse(
    description="The time is taken (R19): `conflicts_with` names the session and whose time it is."
)

# A range longer than a quarter (plus a few days) is refused: availability is computed, not
# stored, and this bounds what one request may ask for.
MAX_RANGE_DAYS = 92


def is_patient(request: Request) -> bool:
    return request.membership.role == Role.PATIENT


class ScopedFieldsSerializer(serializers.Serializer):
    """Related fields choose only among the request's practice's rows (and, for a patient,
    only their own patient record), so another practice's ids are simply "not found"."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        practice = getattr(request, "practice", None)
        if practice is None:
            return
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is None:
                continue
            field.queryset = queryset.for_practice(practice)
            if queryset.model is Patient and is_patient(request):
                field.queryset = field.queryset.filter(user=request.user)

    def patient_of(self, request: Request) -> Patient:
        """The patient named, or the signed-in patient's own record."""
        patient = self.validated_data.get("patient")
        if patient is not None:
            return patient
        if is_patient(request):
            own = Patient.objects.for_practice(request.practice).filter(user=request.user).first()
            if own is not None:
                return own
        raise serializers.ValidationError({"patient": [_("This field is required.")]})


def renamed(fields: dict, **names: str) -> dict:
    """Parameters named like Python keywords (`from`): declared as `from_`, shown as `from`."""
    for public, declared in names.items():
        fields[public] = fields.pop(declared)
    return fields


class AvailabilityQuerySerializer(ScopedFieldsSerializer):
    therapist = serializers.PrimaryKeyRelatedField(
        queryset=Therapist.objects.filter(active=True), required=False
    )
    massage_type = serializers.PrimaryKeyRelatedField(
        queryset=MassageType.objects.filter(active=True), required=False
    )
    room = serializers.PrimaryKeyRelatedField(
        queryset=Room.objects.filter(active=True), required=False
    )
    from_ = serializers.DateField(help_text=_("First day (the practice's local date)."))
    to = serializers.DateField(help_text=_("Last day, included."))
    duration = serializers.IntegerField(
        min_value=MIN_SESSION_MINUTES,
        max_value=MAX_SESSION_MINUTES,
        required=False,
        help_text=_("Minutes; the massage type's default when omitted."),
    )

    def get_fields(self) -> dict:
        return renamed(super().get_fields(), **{"from": "from_"})

    def validate(self, attrs: dict) -> dict:
        errors = {}
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
    def get(self, request: Request) -> Response:
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
        )
        body = {"time_zone": practice.settings.time_zone, "duration": minutes, "slots": slots}
        return Response(AvailabilitySerializer(body).data)


def status_field(choices: type[models.TextChoices], **kwargs: object) -> serializers.Field:
    """A status, described as a plain string: several apps have a `status` field with
    different choices, and drf-spectacular names every such enum "StatusEnum", so they would
    collide (until settings.ENUM_NAME_OVERRIDES names them)."""
    values = ", ".join(choices.values)

    @extend_schema_field({"type": "string", "description": f"One of: {values}."})
    class StatusField(serializers.ChoiceField):
        pass

    return StatusField(choices=choices.choices, **kwargs)


class SessionSerializer(serializers.ModelSerializer):
    status = status_field(SessionStatus, read_only=True)
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    therapist_name = serializers.CharField(source="therapist.name", read_only=True)
    massage_type_name = serializers.CharField(source="massage_type.name", read_only=True)
    minutes = serializers.IntegerField(read_only=True)

    class Meta:
        model = Session
        fields = [
            "id",
            "course",
            "sequence",
            "patient",
            "patient_name",
            "therapist",
            "therapist_name",
            "room",
            "massage_type",
            "massage_type_name",
            "starts_at",
            "ends_at",
            "minutes",
            "status",
            "schedule_version",
            "late_cancellation",
            "cancellation_reason",
            "cancelled_at",
        ]
        read_only_fields = fields


class SessionBookSerializer(ScopedFieldsSerializer):
    patient = serializers.PrimaryKeyRelatedField(
        queryset=Patient.objects.filter(archived=False),
        required=False,
        help_text=_("Staff: required. A patient books for themselves."),
    )
    therapist = serializers.PrimaryKeyRelatedField(queryset=Therapist.objects.all())
    massage_type = serializers.PrimaryKeyRelatedField(queryset=MassageType.objects.all())
    room = serializers.PrimaryKeyRelatedField(
        queryset=Room.objects.all(), required=False, allow_null=True
    )
    starts_at = serializers.DateTimeField()
    minutes = serializers.IntegerField(
        min_value=MIN_SESSION_MINUTES, max_value=MAX_SESSION_MINUTES, required=False
    )
    course = serializers.PrimaryKeyRelatedField(
        queryset=Course.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Rebooking a missed session of this course (R13)."),
    )
    sequence = serializers.IntegerField(min_value=1, max_value=MAX_SESSIONS, required=False)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("sequence") is not None and attrs.get("course") is None:
            raise serializers.ValidationError({"course": _("A session number needs its course.")})
        return attrs

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and getattr(request, "practice", None) and is_patient(request):
            field = self.fields["course"]
            field.queryset = field.queryset.filter(patient__user=request.user)


class SessionListQuerySerializer(ScopedFieldsSerializer):
    from_ = serializers.DateField(required=False)
    to = serializers.DateField(required=False)
    therapist = serializers.PrimaryKeyRelatedField(queryset=Therapist.objects.all(), required=False)
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all(), required=False)
    status = status_field(SessionStatus, required=False)

    def get_fields(self) -> dict:
        return renamed(super().get_fields(), **{"from": "from_"})

    def validate(self, attrs: dict) -> dict:
        if attrs.get("from") and attrs.get("to") and attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": _("The end must not be before the start.")})
        return attrs


class RescheduleSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class CancellationSerializer(serializers.Serializer):
    session = SessionSerializer()
    late = serializers.BooleanField()
    rebook_options = serializers.ListField(
        child=serializers.DateTimeField(),
        help_text=_("R13: free times to rebook a course session within the cadence."),
    )


class SessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sessions of the practice (a patient sees their own); book, move and cancel them."""

    permission_classes = [IsPracticeMember]
    serializer_class = SessionSerializer
    # For the schema's model; requests read through get_queryset().
    queryset = Session.objects.all()

    def get_queryset(self) -> QuerySet[Session]:
        return session_list(membership=self.request.membership)

    @extend_schema(parameters=[SessionListQuerySerializer])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        query = SessionListQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        queryset = session_list(
            membership=request.membership,
            first=data.get("from"),
            last=data.get("to"),
            therapist=data.get("therapist"),
            patient=data.get("patient"),
            status=data.get("status"),
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=SessionBookSerializer, responses={201: SessionSerializer, 409: TAKEN})
    def create(self, request: Request) -> Response:
        given = SessionBookSerializer(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        data = given.validated_data
        session = session_book(
            practice=request.practice,
            patient=given.patient_of(request),
            therapist=data["therapist"],
            massage_type=data["massage_type"],
            room=data.get("room"),
            starts_at=data["starts_at"],
            minutes=data.get("minutes"),
            course=data.get("course"),
            sequence=data.get("sequence"),
            booked_by=request.user,
        )
        return Response(SessionSerializer(session).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RescheduleSerializer, responses={200: SessionSerializer, 409: TAKEN})
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: str | None = None) -> Response:
        given = RescheduleSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        session = session_reschedule(
            session=self._session(), starts_at=given.validated_data["starts_at"], by=request.user
        )
        return Response(SessionSerializer(session).data)

    @extend_schema(request=CancelSerializer, responses=CancellationSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        given = CancelSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        result = session_cancel(
            session=self._session(), by=request.user, reason=given.validated_data["reason"]
        )
        return Response(CancellationSerializer(result).data)

    def _session(self) -> Session:
        session = self.get_object()
        # The scoped queryset guarantees this; reusing the request's practice saves its
        # settings a query.
        session.practice = self.request.practice
        return session
