"""Courses API: plan (saves nothing), book a plan, list and read courses with their progress,
cancel a course as a whole (staff), and the patients due for their next course (staff, R11)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from courses.models import DEFAULT_SESSIONS, Cadence, Course, CourseStatus
from courses.selectors import course_overrides_recorded
from courses.services import CourseRequest
from patients.api import PatientScopedSerializer
from patients.models import Patient
from patients.selectors import patient_data_read
from practice.api import DayField, ListCursorPagination, MomentField, status_field
from practice.idempotency import Idempotent
from practice.models import MassageType, Room, Therapist
from practice.permissions import IsPracticeMember, IsStaff, practice_request, request_membership
from practice.tenancy import PracticeAPIRequest
from sessions.api.serializers import ROOM_HELP
from sessions.booking.courses import course_book, course_cancel, course_plan
from sessions.models import Session, SessionStatus
from sessions.selectors import course_list, course_progress, courses_due


class CourseRequestSerializer(PatientScopedSerializer):
    patient = serializers.PrimaryKeyRelatedField(
        queryset=Patient.objects.filter(archived=False),
        required=False,
        help_text=_("Staff: required. A patient plans for themselves."),
    )
    therapist = serializers.PrimaryKeyRelatedField(queryset=Therapist.objects.all())
    massage_type = serializers.PrimaryKeyRelatedField(queryset=MassageType.objects.all())
    room = serializers.PrimaryKeyRelatedField(
        queryset=Room.objects.all(),
        required=False,
        allow_null=True,
        help_text=ROOM_HELP,
    )
    start_date = DayField()
    preferred_time = serializers.TimeField(help_text=_("Local wall-clock time (R24)."))
    # Bounds are checked by the R9 rule itself, so the message names it.
    sessions_count = serializers.IntegerField(default=DEFAULT_SESSIONS)
    cadence = serializers.ChoiceField(choices=Cadence.choices, default=Cadence.EVERY_OTHER_DAY)

    def course_request(self, request: PracticeAPIRequest) -> CourseRequest:
        data = self.validated_data
        return CourseRequest(
            practice=request.practice,
            patient=self.patient_of(request),
            therapist=data["therapist"],
            massage_type=data["massage_type"],
            room=data.get("room"),
            start_date=data["start_date"],
            preferred_time=data["preferred_time"],
            sessions_count=data["sessions_count"],
            cadence=data["cadence"],
        )


class CourseBookSerializer(CourseRequestSerializer):
    sessions = serializers.ListField(
        child=MomentField(),
        required=False,
        max_length=32,
        help_text=_("The plan's session starts; omitted: plan now and book that."),
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text=_("Staff only: why a warned rule (R12) is overridden."),
    )


class RuleFindingSerializer(serializers.Serializer):
    rule = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class SkippedDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    reason = serializers.CharField()
    message = serializers.CharField()


class PlannedSessionSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    minutes = serializers.IntegerField()
    due_day = serializers.DateField()
    moved = serializers.BooleanField()
    time_moved = serializers.BooleanField()
    skipped = SkippedDaySerializer(many=True)


class CoursePlanSerializer(serializers.Serializer):
    sessions = PlannedSessionSerializer(many=True)
    warnings = RuleFindingSerializer(many=True)
    proposed_massage_type = serializers.IntegerField(
        source="proposed_massage_type.pk", read_only=True, allow_null=True
    )
    override_required = serializers.BooleanField()


class CourseSessionSerializer(serializers.ModelSerializer):
    status = status_field(SessionStatus, read_only=True)
    minutes = serializers.IntegerField(read_only=True)

    class Meta:
        model = Session
        fields = ["id", "sequence", "starts_at", "ends_at", "minutes", "status"]
        read_only_fields = fields


class ProgressSerializer(serializers.Serializer):
    planned = serializers.IntegerField(source="sessions_count")
    completed = serializers.IntegerField(source="sessions_completed")
    booked = serializers.IntegerField(source="sessions_booked")
    missed = serializers.IntegerField(source="sessions_missed")


class OverrideSerializer(serializers.Serializer):
    rule = serializers.CharField()
    reason = serializers.CharField()
    by = serializers.IntegerField(allow_null=True, help_text=_("The user who overrode it."))
    at = serializers.DateTimeField()


class CourseSerializer(serializers.ModelSerializer):
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    therapist_name = serializers.CharField(source="therapist.name", read_only=True)
    massage_type_name = serializers.CharField(source="massage_type.display_name", read_only=True)
    room_name = serializers.CharField(source="room.name", read_only=True, allow_null=True)
    progress = ProgressSerializer(source="*", read_only=True)
    status = status_field(CourseStatus, read_only=True)

    class Meta:
        model = Course
        fields = [
            "id",
            "patient",
            "patient_name",
            "therapist",
            "therapist_name",
            "massage_type",
            "massage_type_name",
            "room",
            "room_name",
            "screening",
            "sessions_count",
            "cadence",
            "start_date",
            "preferred_time",
            "status",
            "paused_at",
            "pause_reason",
            "warnings",
            "progress",
            "created_at",
        ]
        read_only_fields = fields


class SessionProgressSerializer(serializers.Serializer):
    session = serializers.IntegerField(source="session_id")
    sequence = serializers.IntegerField(allow_null=True)
    starts_at = serializers.DateTimeField()
    status = status_field(SessionStatus)
    pain_before = serializers.IntegerField(allow_null=True, help_text=_("R18: 0-10."))
    pain_after = serializers.IntegerField(allow_null=True, help_text=_("R18: 0-10."))
    systolic_before = serializers.IntegerField(
        allow_null=True, help_text=_("R7: from the check-in (the reading R8 stopped it on).")
    )
    diastolic_before = serializers.IntegerField(allow_null=True)
    systolic_after = serializers.IntegerField(allow_null=True)
    diastolic_after = serializers.IntegerField(allow_null=True)


class CourseProgressSerializer(serializers.Serializer):
    planned = serializers.IntegerField()
    done = serializers.IntegerField()
    left = serializers.IntegerField(help_text=_("Positions not completed yet."))
    to_come = serializers.IntegerField(help_text=_("Sessions still booked."))
    missed = serializers.IntegerField(help_text=_("Positions missed and not rebooked."))
    missed_in_a_row = serializers.IntegerField(help_text=_("R13: more than 2 flags the course."))
    flagged = serializers.BooleanField(help_text=_("R13: interrupted."))
    paused = serializers.BooleanField(help_text=_("R8: stopped at a check-in until resumed."))
    sessions = SessionProgressSerializer(many=True)


class CourseDetailSerializer(CourseSerializer):
    sessions = CourseSessionSerializer(many=True, read_only=True)
    override_reasons = serializers.SerializerMethodField()
    course_progress = serializers.SerializerMethodField(
        help_text=_("Done and left, R13's missed run, pain and blood pressure per session.")
    )

    class Meta(CourseSerializer.Meta):
        fields = [*CourseSerializer.Meta.fields, "override_reasons", "sessions", "course_progress"]
        read_only_fields = fields

    @extend_schema_field(OverrideSerializer(many=True))
    def get_override_reasons(self, course: Course) -> list[dict[str, Any]]:
        # R12: who overrode which rule and why, as the audit trail recorded it.
        return list(OverrideSerializer(course_overrides_recorded(course=course), many=True).data)

    @extend_schema_field(CourseProgressSerializer)
    def get_course_progress(self, course: Course) -> dict:
        # The sessions come prefetched with their records and check-ins (course_list).
        return CourseProgressSerializer(course_progress(course, course.sessions.all())).data


class CoursePlanView(Idempotent, GenericAPIView):
    """Propose a course's sessions (R9 to R14, R24) without saving anything."""

    permission_classes = [IsPracticeMember]
    serializer_class = CourseRequestSerializer

    @extend_schema(
        request=CourseRequestSerializer,
        responses={
            200: CoursePlanSerializer,
            409: OpenApiResponse(description="No open day left before the booking horizon."),
        },
    )
    def post(self, request: PracticeAPIRequest) -> Response:
        given = CourseRequestSerializer(data=request.data, context=self.get_serializer_context())
        given.is_valid(raise_exception=True)
        plan = course_plan(request=given.course_request(request))
        return Response(CoursePlanSerializer(plan).data)


class CourseCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class CoursePagination(ListCursorPagination):
    ordering = ("-start_date", "-id")


class CourseViewSet(
    Idempotent, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Courses of the practice (a patient sees their own), with their progress. The list is
    paged by cursor (`next` and `previous`, no total), the latest start first."""

    permission_classes = [IsPracticeMember]
    pagination_class = CoursePagination
    # For the schema's model; requests read through get_queryset().
    queryset = Course.objects.all()

    def get_queryset(self) -> QuerySet[Course]:
        return course_list(
            membership=request_membership(self.request), with_sessions=self.action == "retrieve"
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return CourseDetailSerializer if self.action == "retrieve" else CourseSerializer

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        course = self.get_object()
        # Its sessions' pain scores and blood pressure are the patient's health data.
        patient_data_read(course, patient_id=course.patient_id)
        return Response(self.get_serializer(course).data)

    @extend_schema(
        request=CourseBookSerializer,
        responses={
            201: CourseDetailSerializer,
            409: OpenApiResponse(
                description="A session of the plan is no longer free: `sequence` names it."
            ),
        },
    )
    def create(self, request: PracticeAPIRequest) -> Response:
        given = CourseBookSerializer(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        course = course_book(
            request=given.course_request(request),
            starts=given.validated_data.get("sessions"),
            override_reason=given.validated_data["override_reason"],
            may_override=request.membership.is_staff_role,
            booked_by=request.user,
        )
        created = course_list(membership=request.membership, with_sessions=True).get(pk=course.pk)
        return Response(CourseDetailSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CourseCancelSerializer,
        responses={
            200: CourseDetailSerializer,
            409: OpenApiResponse(
                description="The course is completed or cancelled already: `course_status`."
            ),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsStaff])
    def cancel(self, request: PracticeAPIRequest, pk: str | None = None) -> Response:
        """Cancel the course: its sessions still to come are cancelled with it, and none of
        their reminders is sent."""
        course = self.get_object()
        given = CourseCancelSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        course_cancel(course=course, by=request.user, reason=given.validated_data["reason"])
        cancelled = course_list(membership=request.membership, with_sessions=True).get(pk=course.pk)
        return Response(CourseDetailSerializer(cancelled).data)


class CourseDueSerializer(serializers.Serializer):
    patient = serializers.IntegerField(source="due.patient.pk")
    patient_name = serializers.CharField(source="due.patient.full_name")
    last_course = serializers.IntegerField(
        source="due.last_course.pk",
        allow_null=True,
        help_text=_("The course the next one follows; null before the patient's first course."),
    )
    last_course_ended_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When the last course's last session held ended.")
    )
    due_on = serializers.DateField(
        source="due.due_on",
        help_text=_(
            "R11: a quarter after the last course started, once fewer than 2 started in the "
            "365 days before; today for a patient with no course yet."
        ),
    )
    proposed_massage_type = serializers.IntegerField(
        source="due.proposed_type.pk",
        allow_null=True,
        help_text=_(
            "R12: the next type in the practice's rotation that the screening allows; null "
            "when it allows none."
        ),
    )
    proposed_massage_type_name = serializers.CharField(
        source="due.proposed_type.display_name", allow_null=True
    )


class CoursesDueView(ListAPIView):
    """R11: the patients in a chronic/prevention plan whose next course is due within two
    weeks or overdue and not booked yet, soonest first, with the type the rotation proposes
    (R12). They are nudged too. Staff only."""

    permission_classes = [IsStaff]
    serializer_class = CourseDueSerializer
    # A computed list (R11), not a queryset to filter.
    filter_backends: list = []

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        practice = practice_request(request).practice
        rows = courses_due(practice=practice, today=timezone.localdate(timezone=practice.zone))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
