"""Availability and sessions API. Thin views: input serializer, one service, output serializer.

Staff act for any patient of their practice; a patient only for their own record: the
`patient` field's choices are narrowed to it, and the querysets to their own rows.

The session day (`sessions.session_day`): any staff member checks a patient in or marks a
no-show (the front desk does both; so may a therapist in a practice without one). Starting and
completing a session is clinical work: a therapist, for their own sessions, or a manager. The
planned protocol is the therapist's working plan, read by staff only; a patient sees their
sessions and their course's progress instead.
"""

from __future__ import annotations

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from courses.models import MAX_SESSIONS, Course
from patients.models import Patient
from patients.screening import Zone
from practice.models import MassageType, Role, Room, Therapist
from practice.permissions import IsPracticeMember, IsStaff, PracticeRole
from sessions.availability import availability
from sessions.models import MAX_SESSION_MINUTES, CheckIn, Session, SessionRecord, SessionStatus
from sessions.selectors import session_list
from sessions.services import (
    MIN_SESSION_MINUTES,
    session_book,
    session_cancel,
    session_reschedule,
)
from sessions.session_day import (
    CheckInAnswer,
    may_run_session,
    session_check_in,
    session_complete,
    session_no_show,
    session_protocol_for,
    session_start,
)
from sessions.techniques import BackZone, Direction, Pressure, Technique

TAKEN = OpenApiResponse(
    description="The time is taken (R19): `conflicts_with` names the session and whose time it is."
)
WRONG_STATE = OpenApiResponse(
    description="The session is not in the state this step needs; `session_status` says which."
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


class IsClinician(PracticeRole):
    message = _("Only a therapist or a manager may do this.")
    roles = frozenset({Role.MANAGER, Role.THERAPIST})


class CheckInAnswerSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40, help_text=_("A same-day question's item code."))
    yes = serializers.BooleanField()
    zone = serializers.ChoiceField(
        choices=Zone.choices, required=False, allow_blank=True, default=""
    )


class CheckInInputSerializer(serializers.Serializer):
    answers = CheckInAnswerSerializer(
        many=True,
        help_text=_(
            "One answer per same-day question: fever, acute_infection, chronic_exacerbation, "
            "wound, inflamed_skin, allergic_rash (those the practice asks)."
        ),
    )
    # Ranges and R7 are checked by the service, so its messages (naming the rule) are the
    # ones a client sees.
    temperature = serializers.DecimalField(
        max_digits=4, decimal_places=1, required=False, allow_null=True
    )
    systolic = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("R7: required for a hypertensive patient.")
    )
    diastolic = serializers.IntegerField(required=False, allow_null=True)
    pulse = serializers.IntegerField(required=False, allow_null=True)


class RuleNoteSerializer(serializers.Serializer):
    rule = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()
    zone = serializers.CharField(allow_blank=True)


class CheckInSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckIn
        fields = [
            "id",
            "answers",
            "temperature",
            "systolic",
            "diastolic",
            "pulse",
            "blocked_by",
            "checked_in_by",
            "created_at",
        ]
        read_only_fields = fields


class CheckInResultSerializer(serializers.Serializer):
    session = SessionSerializer()
    check_in = CheckInSerializer()
    blocked = serializers.BooleanField(
        help_text=_("R2/R5/R8: today's session was stopped and cancelled as medical.")
    )
    blocked_by = RuleNoteSerializer(many=True)
    blocked_zones = serializers.ListField(
        child=serializers.CharField(), help_text=_("R3: zones closed for today.")
    )
    rebook_options = serializers.ListField(
        child=serializers.DateTimeField(),
        help_text=_("When blocked: free times from tomorrow to rebook the session."),
    )


def codes_help(text: str, codes: list[str]) -> Promise:
    # Lazy all the way: the text is translated when the schema is rendered, not at import.
    return format_lazy("{} {}", text, ", ".join(codes))


class CompleteSerializer(serializers.Serializer):
    # Codes are checked by the R20 rules (sessions.records), whose messages name the rule.
    techniques = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=64,
        help_text=codes_help(_("Technique codes, in the order used (R15):"), Technique.values),
    )
    zones = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=32,
        help_text=codes_help(_("Zones worked:"), BackZone.values),
    )
    pressure = serializers.CharField(
        max_length=16, help_text=codes_help(_("Pressure level:"), Pressure.values)
    )
    direction = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        help_text=codes_help(
            _("Top-down by default for a hypertensive patient (R8), else bottom-up (R16):"),
            Direction.values,
        ),
    )
    systolic_after = serializers.IntegerField(required=False, allow_null=True)
    diastolic_after = serializers.IntegerField(required=False, allow_null=True)
    pain_before = serializers.IntegerField(help_text=_("R18: 0-10."))
    pain_after = serializers.IntegerField(help_text=_("R18: 0-10."))
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class SessionRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = SessionRecord
        fields = [
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
        ]
        read_only_fields = fields


class CompletedSerializer(serializers.Serializer):
    session = SessionSerializer()
    record = SessionRecordSerializer()


class NoShowSerializer(serializers.Serializer):
    session = SessionSerializer()
    course_interrupted = serializers.BooleanField(
        help_text=_("R13: more than two missed sessions in a row flagged the course.")
    )
    rebook_options = serializers.ListField(
        child=serializers.DateTimeField(),
        help_text=_("R13: free times to rebook it within the cadence."),
    )


class ProtocolNoteSerializer(serializers.Serializer):
    rule = serializers.CharField()
    message = serializers.CharField()


class ProtocolStepSerializer(serializers.Serializer):
    group = serializers.CharField()
    techniques = serializers.ListField(child=serializers.CharField())
    zones = serializers.ListField(child=serializers.CharField())
    pressure = serializers.CharField()


class ZoneAvoidanceSerializer(serializers.Serializer):
    zone = serializers.CharField()
    rule = serializers.CharField()
    groups = serializers.ListField(child=serializers.CharField())
    max_pressure = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class TechniqueExclusionSerializer(serializers.Serializer):
    technique = serializers.CharField()
    rule = serializers.CharField()
    message = serializers.CharField()


class ProtocolSerializer(serializers.Serializer):
    """`sessions.protocol.SessionProtocol.as_json()`."""

    massage_type = serializers.CharField()
    minutes = serializers.IntegerField(help_text=_("R14: 10, then 15, then the type's default."))
    direction = serializers.CharField()
    allowed = serializers.BooleanField()
    blocked_by = ProtocolNoteSerializer(many=True)
    steps = ProtocolStepSerializer(many=True)
    avoid = ZoneAvoidanceSerializer(many=True)
    excluded = TechniqueExclusionSerializer(many=True)
    notes = ProtocolNoteSerializer(many=True)


class SessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sessions of the practice (a patient sees their own); book, move and cancel them."""

    permission_classes = [IsPracticeMember]
    serializer_class = SessionSerializer
    # For the schema's model; requests read through get_queryset().
    queryset = Session.objects.all()

    # The session day's steps: who may take each (see the module docstring).
    ACTION_PERMISSIONS: dict[str, list[type[PracticeRole]]] = {
        "check_in": [IsStaff],
        "no_show": [IsStaff],
        "protocol": [IsStaff],
        "start": [IsClinician],
        "complete": [IsClinician],
    }

    def get_permissions(self) -> list:
        classes = self.ACTION_PERMISSIONS.get(self.action, self.permission_classes)
        return [permission() for permission in classes]

    def get_queryset(self) -> QuerySet[Session]:
        sessions = session_list(membership=self.request.membership)
        if self.action in self.ACTION_PERMISSIONS:
            # What the rules read: the course, its opening screening, the check-in.
            sessions = sessions.select_related("course__screening", "check_in")
        return sessions

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
            by_patient=request.membership.role == Role.PATIENT,
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

    @extend_schema(
        request=CheckInInputSerializer,
        responses={200: CheckInResultSerializer, 409: WRONG_STATE},
        description=(
            "R7, R8, R2-R5: the same-day questions and the vitals. A block cancels today's "
            "session as medical (200 with `blocked`), pauses its course and offers rebooking."
        ),
    )
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, pk: str | None = None) -> Response:
        given = CheckInInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        result = session_check_in(
            session=self._session(),
            answers=[CheckInAnswer(a["code"], a["yes"], a["zone"]) for a in data["answers"]],
            temperature=data.get("temperature"),
            systolic=data.get("systolic"),
            diastolic=data.get("diastolic"),
            pulse=data.get("pulse"),
            by=request.user,
        )
        body = {
            "session": result.session,
            "check_in": result.check_in,
            "blocked": result.blocked,
            "blocked_by": result.blocked_by,
            "blocked_zones": sorted(result.blocked_zones),
            "rebook_options": result.rebook_options,
        }
        return Response(CheckInResultSerializer(body).data)

    @extend_schema(request=None, responses={200: SessionSerializer, 409: WRONG_STATE})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        session = session_start(session=self._own_session(), by=request.user)
        return Response(SessionSerializer(session).data)

    @extend_schema(
        request=CompleteSerializer, responses={200: CompletedSerializer, 409: WRONG_STATE}
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        given = CompleteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        record = session_complete(
            session=self._own_session(),
            techniques=data["techniques"],
            zones=data["zones"],
            pressure=data["pressure"],
            direction=data.get("direction") or None,
            systolic_after=data.get("systolic_after"),
            diastolic_after=data.get("diastolic_after"),
            pain_before=data["pain_before"],
            pain_after=data["pain_after"],
            notes=data["notes"],
            by=request.user,
        )
        return Response(CompletedSerializer({"session": record.session, "record": record}).data)

    @extend_schema(request=None, responses={200: NoShowSerializer, 409: WRONG_STATE})
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request: Request, pk: str | None = None) -> Response:
        result = session_no_show(session=self._session(), by=request.user)
        return Response(NoShowSerializer(result).data)

    @extend_schema(responses=ProtocolSerializer)
    @action(detail=True, methods=["get"])
    def protocol(self, request: Request, pk: str | None = None) -> Response:
        protocol = session_protocol_for(self._session())
        return Response(ProtocolSerializer(protocol.as_json()).data)

    def _own_session(self) -> Session:
        """A therapist starts and completes their own sessions only; a manager any."""
        session = self._session()
        if not may_run_session(membership=self.request.membership, session=session):
            raise exceptions.PermissionDenied(_("This is another therapist's session."))
        return session

    def _session(self) -> Session:
        session = self.get_object()
        # The scoped queryset guarantees this; reusing the request's practice saves its
        # settings a query.
        session.practice = self.request.practice
        return session
