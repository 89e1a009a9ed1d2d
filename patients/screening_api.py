"""Screenings (R1-R8) and the contraindication catalogue over the API. Thin views, scoped by
`patients_visible_to` like the patients' (`patients.api`)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from patients.api import OutcomeSerializer, outcome_summary
from patients.models import Contraindication, DoctorClearance, Patient, Screening, ScreeningAnswer
from patients.screening import Zone
from patients.selectors import (
    catalogue_for,
    patient_data_read,
    patients_visible_to,
    screenings_of,
)
from patients.services import (
    AnswerInput,
    ClearanceInput,
    clearance_add,
    screening_record,
)
from practice.api import DayField, JSONParser
from practice.idempotency import Idempotent
from practice.models import User
from practice.permissions import (
    IsPracticeMember,
    IsStaff,
    practice_request,
    request_membership,
)

# --- Screenings -------------------------------------------------------------------------------


class AnswerSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="contraindication.code")
    question = serializers.CharField(source="contraindication.display_question")

    class Meta:
        model = ScreeningAnswer
        fields = ["item", "question", "yes", "zone", "note"]


class ClearanceSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="contraindication.code")

    class Meta:
        model = DoctorClearance
        fields = ["id", "item", "doctor_name", "issued_on", "document", "created_at"]


class ScreeningSerializer(serializers.ModelSerializer):
    # Both are nullable: a user deleted later leaves null, and a screening the patient filled
    # in is unconfirmed until staff go through it.
    recorded_by: serializers.StringRelatedField[User] = serializers.StringRelatedField(
        allow_null=True
    )
    confirmed_by: serializers.StringRelatedField[User] = serializers.StringRelatedField(
        allow_null=True
    )
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
        return OutcomeSerializer(outcome_summary(screening.outcome)).data


class AnswerInputSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=40)
    yes = serializers.BooleanField()
    zone = serializers.ChoiceField(choices=Zone.choices, required=False, allow_blank=True)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ClearanceInputSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=40)
    doctor_name = serializers.CharField(max_length=200)
    issued_on = DayField()


class ClearanceUploadSerializer(ClearanceInputSerializer):
    document = serializers.FileField(required=False)


class ScreeningInputSerializer(serializers.Serializer):
    """Shapes only: ranges (temperature 30-45 °C, systolic 60-300 mmHg, ...), the catalogue
    and R7 are checked by the service, so the admin and the API say the same."""

    screened_on = DayField(required=False)
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
    Idempotent,
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
        visible = patients_visible_to(membership=request_membership(self.request))
        return get_object_or_404(visible, pk=self.kwargs["patient_pk"])

    def get_queryset(self) -> QuerySet[Screening]:
        if getattr(self, "swagger_fake_view", False):
            return Screening.objects.none()
        return screenings_of(patient=self.get_patient())

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_patient()
        patient_data_read(patient, patient_id=patient.pk)
        return super().list(request, *args, **kwargs)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        screening = self.get_object()
        patient_data_read(screening, patient_id=screening.patient_id)
        return Response(self.get_serializer(screening).data)

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
            recorded_by=practice_request(request).user,
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
        return catalogue_for(practice=practice_request(self.request).practice)
