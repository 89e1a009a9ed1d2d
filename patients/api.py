"""Patients and the signed-in user over the API (screenings and the catalogue:
`patients.screening_api`).

Views are thin: an input serializer checks shapes, one service decides (rules, duplicates,
validation), an output serializer answers. Every queryset is scoped by `patients_visible_to`:
staff see their practice's patients, a patient user only their own record.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from patients.models import Patient
from patients.screening import Outcome, Status
from patients.selectors import (
    ScreeningStatus,
    patient_data_read,
    patient_records_of,
    patient_screening_status,
    patient_search,
    patients_visible_to,
)
from patients.services import (
    PATIENT_EDITABLE_FIELDS,
    DuplicatePatient,
    patient_archive,
    patient_create,
    patient_update,
)
from practice.api import (
    DayField,
    FieldsBuiltOnce,
    ListCursorPagination,
    MembershipSerializer,
    PracticeSerializer,
    ScopedFieldsSerializer,
    is_patient,
)
from practice.idempotency import Idempotent
from practice.models import Role, User
from practice.permissions import (
    IsPracticeMember,
    IsStaff,
    practice_request,
    request_membership,
)
from practice.tenancy import PracticeAPIRequest


class PatientScopedSerializer(ScopedFieldsSerializer):
    """Related fields choose only among the request's practice's rows (and, for a patient,
    only their own patient record), so another practice's ids are simply "not found"."""

    def scope(self, queryset: QuerySet[Any], request: PracticeAPIRequest) -> QuerySet[Any]:
        if queryset.model is Patient and is_patient(request):
            return queryset.filter(user=request.user)
        return queryset

    def patient_of(self, request: PracticeAPIRequest) -> Patient:
        """The patient named, or the signed-in patient's own record."""
        patient = self.validated_data.get("patient")
        if patient is not None:
            return patient
        if is_patient(request):
            own = Patient.objects.for_practice(request.practice).filter(user=request.user).first()
            if own is not None:
                return own
        raise serializers.ValidationError({"patient": [_("This field is required.")]})


# --- Patients ---------------------------------------------------------------------------------


class PatientSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Patient
        fields = [
            "id",
            "full_name",
            *PATIENT_EDITABLE_FIELDS,
            "archived",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["archived", "created_at", "updated_at"]


class PatientInputSerializer(PatientSerializer):
    confirm_duplicate = serializers.BooleanField(
        default=False,
        write_only=True,
        help_text=_("Save even though the record looks like an existing patient."),
    )

    class Meta(PatientSerializer.Meta):
        fields = [*PatientSerializer.Meta.fields, "confirm_duplicate"]
        # Format and range checks live in the model and run in the service (full_clean), so
        # the messages are the same in the admin and the API.
        extra_kwargs: dict[str, dict[str, Any]] = {
            "phone": {"validators": []},
            "emergency_contact_phone": {"validators": []},
        }


class DuplicateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "full_name", "date_of_birth", "phone", "email", "archived"]


class DuplicateResponseSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField()
    duplicates = DuplicateSerializer(many=True)


def duplicate_response(exc: DuplicatePatient) -> Response:
    """409 naming the existing records; the client resends with confirm_duplicate=true."""
    return Response(
        {
            "status": status.HTTP_409_CONFLICT,
            "code": "duplicate_patient",
            "detail": exc.messages[0],
            "duplicates": DuplicateSerializer(exc.duplicates, many=True).data,
        },
        status=status.HTTP_409_CONFLICT,
    )


# Screening outcomes, shown to staff and to the patient.


class FindingSerializer(serializers.Serializer):
    """A `patients.screening.Finding`, its message in the request's language."""

    rule = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField(source="text")
    effect = serializers.CharField()
    zone = serializers.CharField(allow_blank=True)
    massage_types = serializers.ListField(child=serializers.CharField())
    day_only = serializers.BooleanField()


class OutcomeSerializer(serializers.Serializer):
    """Computed from the answers and the catalogue (never typed by hand), with rule ids."""

    status = serializers.ChoiceField(choices=Status.choices)
    blocked_massage_types = serializers.ListField(child=serializers.CharField())
    blocked_zones = serializers.ListField(child=serializers.CharField())
    findings = FindingSerializer(many=True)


def outcome_summary(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": str(outcome.status),
        "blocked_massage_types": sorted(outcome.blocked_types),
        "blocked_zones": sorted(outcome.blocked_zones),
        "findings": outcome.findings,
    }


class ScreeningSummarySerializer(serializers.Serializer):
    """The screening valid on a day and its outcome as it stands that day (R1, R8)."""

    id = serializers.IntegerField()
    screened_on = serializers.DateField()
    valid_until = serializers.DateField()
    outcome = OutcomeSerializer()


def screening_summary(status: ScreeningStatus) -> dict[str, Any] | None:
    if status.screening is None or status.outcome is None:
        return None
    return {
        "id": status.screening.pk,
        "screened_on": status.screening.screened_on,
        "valid_until": status.screening.valid_until,
        "outcome": outcome_summary(status.outcome),
    }


class ScreeningStatusSerializer(serializers.Serializer):
    on = serializers.DateField()
    valid = serializers.BooleanField()
    screening = ScreeningSummarySerializer(allow_null=True)


class PatientSelfSerializer(serializers.ModelSerializer):
    """A patient's own record on /api/v1/me/, with their screening valid today, if any."""

    screening = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "full_name",
            "given_name",
            "family_name",
            "date_of_birth",
            "phone",
            "email",
            "consent_email",
            "consent_sms",
            "screening",
        ]

    @extend_schema_field(ScreeningSummarySerializer(allow_null=True))
    def get_screening(self, patient: Patient) -> dict[str, Any] | None:
        today = timezone.localdate(timezone=patient.practice.zone)
        return screening_summary(patient_screening_status(patient=patient, on=today))


class DayQuerySerializer(serializers.Serializer):
    on = DayField(required=False)


class PatientListQuerySerializer(serializers.Serializer):
    # A CharField refuses NUL characters (which PostgreSQL cannot compare) with a message.
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Part of the name (any word order), phone or email."),
    )
    archived = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("true: archived patients only; default: current."),
    )
    # The name most APIs (and DRF's SearchFilter) give a text search: a client that sends it
    # must not silently get every patient back.
    search = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("The same as q.")
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        search = attrs.pop("search")
        attrs["q"] = attrs["q"] or search
        return attrs


class PatientPagination(ListCursorPagination):
    ordering = ("family_name", "given_name", "id")


@extend_schema_view(
    list=extend_schema(parameters=[PatientListQuerySerializer]),
    retrieve=extend_schema(
        responses=PolymorphicProxySerializer(
            component_name="PatientOrOwnRecord",
            serializers=[PatientSerializer, PatientSelfSerializer],
            resource_type_field_name=None,
        ),
        description="Staff get the full record; a patient user their own, without staff notes.",
    ),
    create=extend_schema(
        request=PatientInputSerializer,
        responses={201: PatientSerializer, 409: DuplicateResponseSerializer},
    ),
    update=extend_schema(
        request=PatientInputSerializer,
        responses={200: PatientSerializer, 409: DuplicateResponseSerializer},
    ),
    partial_update=extend_schema(
        request=PatientInputSerializer,
        responses={200: PatientSerializer, 409: DuplicateResponseSerializer},
    ),
)
class PatientViewSet(
    Idempotent,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """A practice's patients. Staff list, search, create, change and archive; a patient user
    may read their own record. Records are archived, never deleted. The list is paged by
    cursor (`next` and `previous`, no total), by family name."""

    serializer_class = PatientSerializer
    pagination_class = PatientPagination
    queryset = Patient.objects.none()

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("retrieve", "screening_status"):
            return [IsPracticeMember()]
        return [IsStaff()]

    def get_queryset(self) -> QuerySet[Patient]:
        if getattr(self, "swagger_fake_view", False):
            return Patient.objects.none()
        patients = patients_visible_to(membership=request_membership(self.request))
        if self.action != "list":
            return patients
        query = PatientListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        patients = patients.filter(archived=query.validated_data["archived"])
        return patient_search(patients=patients, query=query.validated_data["q"])

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action in ("create", "update", "partial_update"):
            return PatientInputSerializer
        membership = getattr(self.request, "membership", None)
        if membership is not None and not membership.is_staff_role:
            return PatientSelfSerializer
        return PatientSerializer

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        patient_data_read(patient, patient_id=patient.pk)
        return Response(self.get_serializer(patient).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = PatientInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        confirm = data.pop("confirm_duplicate", False)
        try:
            patient = patient_create(
                practice=practice_request(request).practice, confirm_duplicate=confirm, **data
            )
        except DuplicatePatient as exc:
            return duplicate_response(exc)
        return Response(PatientSerializer(patient).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        serializer = PatientInputSerializer(
            patient, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        confirm = data.pop("confirm_duplicate", False)
        try:
            patient = patient_update(patient=patient, confirm_duplicate=confirm, **data)
        except DuplicatePatient as exc:
            return duplicate_response(exc)
        return Response(PatientSerializer(patient).data)

    @extend_schema(request=None, responses=PatientSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str | None = None) -> Response:
        """Archive the record (it disappears from the list; nothing is deleted)."""
        patient = patient_archive(patient=self.get_object())
        return Response(PatientSerializer(patient).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "on", OpenApiTypes.DATE, description="The day to ask about; default today."
            )
        ],
        responses=ScreeningStatusSerializer,
    )
    @action(detail=True, methods=["get"], url_path="screening-status")
    def screening_status(self, request: PracticeAPIRequest, pk: str | None = None) -> Response:
        """The screening valid on a day and its outcome that day, or "none valid" (R1)."""
        patient = self.get_object()
        query = DayQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        on = query.validated_data.get("on") or timezone.localdate(timezone=request.practice.zone)
        status_on = patient_screening_status(patient=patient, on=on)
        body = {"on": on, "valid": status_on.valid, "screening": screening_summary(status_on)}
        return Response(ScreeningStatusSerializer(body).data)


# --- The signed-in user ----------------------------------------------------------------------
# Here rather than in practice/: a patient's "me" carries their own record and screening.


class MeSerializer(serializers.ModelSerializer):
    practice = PracticeSerializer(source="current_membership.practice")
    role = serializers.CharField(source="current_membership.role")
    memberships = MembershipSerializer(many=True)
    patient = PatientSelfSerializer(
        source="current_patient",
        allow_null=True,
        read_only=True,
        help_text="For a patient: their own record and the screening valid today.",
    )

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "language",
            "practice",
            "role",
            "memberships",
            "patient",
        ]


class MeView(GenericAPIView):
    """The signed-in user, the practice this request acts for, and all their practices."""

    permission_classes = [IsPracticeMember]
    serializer_class = MeSerializer

    @extend_schema(responses=MeSerializer)
    def get(self, request: PracticeAPIRequest) -> Response:
        membership = request_membership(request)
        user = User.objects.prefetch_related("memberships__practice__settings").get(
            pk=request.user.pk
        )
        # Read by MeSerializer's sources; set on this one instance, they are not model fields.
        user.current_membership = membership  # type: ignore[attr-defined]
        user.current_patient = (  # type: ignore[attr-defined]
            patient_records_of(user=user, practice=membership.practice)
            .select_related("practice__settings")
            .first()
            if membership.role == Role.PATIENT
            else None
        )
        return Response(self.get_serializer(user).data)
