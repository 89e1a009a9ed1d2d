"""Patients, screenings and the contraindication catalogue over the API.

Views are thin: an input serializer checks shapes, one service decides (rules, duplicates,
validation), an output serializer answers. Every queryset is scoped by `patients_visible_to`:
staff see their practice's patients, a patient user only their own record.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
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
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from patients.models import Contraindication, DoctorClearance, Patient, Screening, ScreeningAnswer
from patients.screening import Outcome, Status, Zone
from patients.selectors import (
    ScreeningStatus,
    catalogue_for,
    patient_screening_status,
    patient_search,
    patients_visible_to,
    screenings_of,
)
from patients.services import (
    PATIENT_EDITABLE_FIELDS,
    AnswerInput,
    ClearanceInput,
    DuplicatePatient,
    clearance_add,
    patient_archive,
    patient_create,
    patient_update,
    screening_record,
)
from practice.permissions import IsPracticeMember, IsStaff

# --- Patients ---------------------------------------------------------------------------------


class PatientSerializer(serializers.ModelSerializer):
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
        extra_kwargs = {
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
    rule = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()
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
        "findings": [finding.as_json() for finding in outcome.findings],
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
    on = serializers.DateField(required=False)


SEARCH = OpenApiParameter(
    "q", OpenApiTypes.STR, description="Part of the name (any word order), phone or email."
)
ARCHIVED = OpenApiParameter(
    "archived", OpenApiTypes.BOOL, description="true: archived patients only; default: current."
)


@extend_schema_view(
    list=extend_schema(parameters=[SEARCH, ARCHIVED]),
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
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """A practice's patients. Staff list, search, create, change and archive; a patient user
    may read their own record. Records are archived, never deleted."""

    serializer_class = PatientSerializer
    queryset = Patient.objects.none()

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("retrieve", "screening_status"):
            return [IsPracticeMember()]
        return [IsStaff()]

    def get_queryset(self) -> QuerySet[Patient]:
        if getattr(self, "swagger_fake_view", False):
            return Patient.objects.none()
        patients = patients_visible_to(membership=self.request.membership)
        if self.action != "list":
            return patients
        archived = self.request.query_params.get("archived", "").lower() in ("1", "true", "yes")
        patients = patients.filter(archived=archived)
        return patient_search(patients=patients, query=self.request.query_params.get("q", ""))

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action in ("create", "update", "partial_update"):
            return PatientInputSerializer
        membership = getattr(self.request, "membership", None)
        if membership is not None and not membership.is_staff_role:
            return PatientSelfSerializer
        return PatientSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = PatientInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        confirm = data.pop("confirm_duplicate", False)
        try:
            patient = patient_create(practice=request.practice, confirm_duplicate=confirm, **data)
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
    def screening_status(self, request: Request, pk: str | None = None) -> Response:
        """The screening valid on a day and its outcome that day, or "none valid" (R1)."""
        patient = self.get_object()
        query = DayQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        on = query.validated_data.get("on") or timezone.localdate(timezone=request.practice.zone)
        status_on = patient_screening_status(patient=patient, on=on)
        body = {"on": on, "valid": status_on.valid, "screening": screening_summary(status_on)}
        return Response(ScreeningStatusSerializer(body).data)


# --- Screenings -------------------------------------------------------------------------------


class AnswerSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="contraindication.code")
    question = serializers.CharField(source="contraindication.question")

    class Meta:
        model = ScreeningAnswer
        fields = ["item", "question", "yes", "zone", "note"]


class ClearanceSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="contraindication.code")

    class Meta:
        model = DoctorClearance
        fields = ["id", "item", "doctor_name", "issued_on", "document", "created_at"]


class ScreeningSerializer(serializers.ModelSerializer):
    recorded_by = serializers.StringRelatedField()
    confirmed_by = serializers.StringRelatedField()
    answers = AnswerSerializer(many=True)
    clearances = ClearanceSerializer(many=True)
    outcome = serializers.SerializerMethodField()

    class Meta:
        model = Screening
        fields = [
            "id",
            "patient",
            "screened_on",
            "valid_until",
            "recorded_at",
            "recorded_by",
            "temperature",
            "systolic",
            "diastolic",
            "pulse",
            "notes",
            "self_reported",
            "confirmed_by",
            "confirmed_at",
            "answers",
            "clearances",
            "outcome",
        ]

    @extend_schema_field(OutcomeSerializer)
    def get_outcome(self, screening: Screening) -> dict[str, Any]:
        return outcome_summary(screening.outcome)


class AnswerInputSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=40)
    yes = serializers.BooleanField()
    zone = serializers.ChoiceField(choices=Zone.choices, required=False, allow_blank=True)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ClearanceInputSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=40)
    doctor_name = serializers.CharField(max_length=200)
    issued_on = serializers.DateField()


class ClearanceUploadSerializer(ClearanceInputSerializer):
    document = serializers.FileField(required=False)


class ScreeningInputSerializer(serializers.Serializer):
    """Shapes only: ranges (temperature 30-45 °C, systolic 60-300 mmHg, ...), the catalogue
    and R7 are checked by the service, so the admin and the API say the same."""

    screened_on = serializers.DateField(required=False)
    temperature = serializers.DecimalField(
        max_digits=4, decimal_places=1, required=False, allow_null=True
    )
    systolic = serializers.IntegerField(required=False, allow_null=True)
    diastolic = serializers.IntegerField(required=False, allow_null=True)
    pulse = serializers.IntegerField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    answers = AnswerInputSerializer(many=True, allow_empty=False)
    clearances = ClearanceInputSerializer(many=True, required=False)


@extend_schema_view(
    list=extend_schema(summary="A patient's screenings, latest first"),
    retrieve=extend_schema(summary="One screening with its computed outcome"),
    create=extend_schema(request=ScreeningInputSerializer, responses={201: ScreeningSerializer}),
)
class ScreeningViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Contraindication screenings of one patient (R1-R8). The outcome is computed by the
    service from the answers and the catalogue. Staff record; a patient reads their own."""

    serializer_class = ScreeningSerializer
    queryset = Screening.objects.none()

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("list", "retrieve"):
            return [IsPracticeMember()]
        return [IsStaff()]

    def get_patient(self) -> Patient:
        visible = patients_visible_to(membership=self.request.membership)
        return get_object_or_404(visible, pk=self.kwargs["patient_pk"])

    def get_queryset(self) -> QuerySet[Screening]:
        if getattr(self, "swagger_fake_view", False):
            return Screening.objects.none()
        return screenings_of(patient=self.get_patient())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_patient()
        serializer = ScreeningInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        answers = [
            AnswerInput(a["item"], a["yes"], a.get("zone", ""), a.get("note", ""))
            for a in data.pop("answers")
        ]
        clearances = [
            ClearanceInput(c["item"], c["doctor_name"], c["issued_on"])
            for c in data.pop("clearances", [])
        ]
        screening = screening_record(
            patient=patient,
            answers=answers,
            clearances=clearances,
            recorded_by=request.user,
            **data,
        )
        screening = screenings_of(patient=patient).get(pk=screening.pk)
        return Response(ScreeningSerializer(screening).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ClearanceUploadSerializer, responses={201: ScreeningSerializer})
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
    )
    def clearances(self, request: Request, patient_pk: str, pk: str) -> Response:
        """Add a doctor's clearance (with its document) to a screening; the outcome is
        recomputed (R2: never oncology or fever; R6)."""
        screening = self.get_object()
        serializer = ClearanceUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        clearance_add(
            screening=screening,
            code=data["item"],
            doctor_name=data["doctor_name"],
            issued_on=data["issued_on"],
            document=data.get("document"),
        )
        screening = self.get_queryset().get(pk=screening.pk)
        return Response(ScreeningSerializer(screening).data, status=status.HTTP_201_CREATED)


# --- Catalogue --------------------------------------------------------------------------------


class ContraindicationSerializer(serializers.ModelSerializer):
    rule = serializers.SerializerMethodField()
    shared = serializers.BooleanField(source="is_shared")

    class Meta:
        model = Contraindication
        fields = [
            "id",
            "code",
            "name",
            "question",
            "kind",
            "rule",
            "blocks_types",
            "clearable",
            "shared",
        ]

    def get_rule(self, item: Contraindication) -> str:
        return item.as_item().rule


class ContraindicationViewSet(viewsets.ReadOnlyModelViewSet):
    """The practice's contraindication catalogue: the shared default less the items it
    switched off, plus its own (edited in the admin)."""

    serializer_class = ContraindicationSerializer
    permission_classes = [IsPracticeMember]
    queryset = Contraindication.objects.none()
    pagination_class = None

    def get_queryset(self) -> QuerySet[Contraindication]:
        return catalogue_for(practice=self.request.practice)
