"""The waitlist API: the entries of the practice (a patient sees their own) with the offers
made from them, adding one and taking one off. Thin: input serializer, one service
(`sessions.waitlist.entries`), output serializer. Offers are claimed through the link of
their message (`portal:waitlist-offer`), not here."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from courses.models import Cadence
from patients.api import PatientScopedSerializer
from patients.models import Patient
from practice.api import DayField, ListCursorPagination, is_patient, status_field
from practice.idempotency import Idempotent
from practice.models import MassageType, Therapist, Weekday
from practice.permissions import IsPracticeMember, practice_request
from practice.tenancy import PracticeAPIRequest
from sessions.models import (
    WaitlistEntry,
    WaitlistEntryKind,
    WaitlistEntryStatus,
    WaitlistOffer,
    WaitlistOfferStatus,
)
from sessions.waitlist.entries import waitlist_entry_add, waitlist_entry_withdraw
from sessions.waitlist.selectors import waitlist_entries


class WaitlistOfferSerializer(serializers.ModelSerializer):
    status = status_field(WaitlistOfferStatus, read_only=True)
    therapist_name = serializers.CharField(source="therapist.name", read_only=True)
    massage_type_name = serializers.CharField(source="massage_type.display_name", read_only=True)
    course_starts = serializers.ListField(
        child=serializers.DateTimeField(),
        source="course_start_times",
        read_only=True,
        help_text=_(
            "A course entry's offer: the planned course's session starts, the first being "
            "`starts_at`; claiming books them all. Empty for one session."
        ),
    )
    course = serializers.IntegerField(
        source="session.course_id",
        read_only=True,
        allow_null=True,
        default=None,
        help_text=_("The course booked from a course entry's offer (`session` is its first)."),
    )

    class Meta:
        model = WaitlistOffer
        fields = [
            "id",
            "therapist",
            "therapist_name",
            "massage_type",
            "massage_type_name",
            "starts_at",
            "course_starts",
            "expires_at",
            "status",
            "session",
            "course",
            "created_at",
            "closed_at",
        ]
        read_only_fields = fields


class WaitlistEntrySerializer(serializers.ModelSerializer):
    status = status_field(WaitlistEntryStatus, read_only=True)
    kind = status_field(WaitlistEntryKind, read_only=True)
    # Blank for one session, as the input takes it.
    cadence = serializers.ChoiceField(choices=Cadence.choices, allow_blank=True, read_only=True)
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    massage_type_name = serializers.CharField(source="massage_type.display_name", read_only=True)
    therapist_name = serializers.CharField(source="therapist.name", read_only=True, allow_null=True)
    weekdays = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    offers = WaitlistOfferSerializer(many=True, read_only=True)

    class Meta:
        model = WaitlistEntry
        fields = [
            "id",
            "patient",
            "patient_name",
            "kind",
            "massage_type",
            "massage_type_name",
            "therapist",
            "therapist_name",
            "sessions_count",
            "cadence",
            "first_day",
            "last_day",
            "earliest",
            "latest",
            "weekdays",
            "note",
            "status",
            "created_at",
            "closed_at",
            "offers",
        ]
        read_only_fields = fields


class WaitlistEntryInputSerializer(PatientScopedSerializer):
    patient = serializers.PrimaryKeyRelatedField(
        queryset=Patient.objects.filter(archived=False),
        required=False,
        help_text=_("Staff: required. A patient adds themselves."),
    )
    kind = serializers.ChoiceField(
        choices=WaitlistEntryKind.choices,
        default=WaitlistEntryKind.SESSION,
        help_text=_(
            "`course`: wait for a whole course (`sessions_count`, `cadence`) to start between "
            "`first_day` and `last_day`."
        ),
    )
    massage_type = serializers.PrimaryKeyRelatedField(queryset=MassageType.objects.all())
    therapist = serializers.PrimaryKeyRelatedField(
        queryset=Therapist.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Empty: any therapist who gives the massage type."),
    )
    # Bounds are checked by the R9 rule itself, so the message names it.
    sessions_count = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("A course: 10 to 15 sessions (R9). Ignored for one session."),
    )
    cadence = serializers.ChoiceField(
        choices=Cadence.choices,
        required=False,
        allow_blank=True,
        help_text=_("A course: daily or every other day (R10). Ignored for one session."),
    )
    first_day = DayField()
    last_day = DayField(help_text=_("A course starts by then; its sessions may run beyond."))
    earliest = serializers.TimeField(required=False, allow_null=True)
    latest = serializers.TimeField(
        required=False,
        allow_null=True,
        help_text=_("The session (a course: each of its sessions) must end by then."),
    )
    weekdays = serializers.ListField(
        child=serializers.ChoiceField(choices=Weekday.choices),
        required=False,
        max_length=7,
        help_text=_("0 = Monday … 6 = Sunday; empty: any day. A course: the days it may start on."),
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class WaitlistListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=WaitlistEntryStatus.choices, required=False)


class WaitlistPagination(ListCursorPagination):
    # The order offers are made in: first come, first offered.
    ordering = ("created_at", "id")


class WaitlistEntryViewSet(
    Idempotent, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The waitlist of the practice (a patient sees their own entries), oldest first, each
    with the offers made from it; paged by cursor."""

    permission_classes = [IsPracticeMember]
    serializer_class = WaitlistEntrySerializer
    pagination_class = WaitlistPagination
    # For the schema's model; requests read through get_queryset().
    queryset = WaitlistEntry.objects.all()

    def get_queryset(self) -> QuerySet[WaitlistEntry]:
        request = practice_request(self.request)
        patient_id = None
        if is_patient(request):
            # A patient without a record of their own sees nothing (no row has id 0).
            own = Patient.objects.for_practice(request.practice).filter(user=request.user)
            patient_id = own.values_list("pk", flat=True).first() or 0
        return waitlist_entries(practice=request.practice, patient_id=patient_id)

    @extend_schema(parameters=[WaitlistListQuerySerializer])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        query = WaitlistListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        entries = self.get_queryset()
        if wanted := query.validated_data.get("status"):
            entries = entries.filter(status=wanted)
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=WaitlistEntryInputSerializer,
        responses={201: WaitlistEntrySerializer},
        description=(
            "Put a patient on the waitlist, for one session or for a whole course to start "
            "in a window of days. The type must be bookable online (the patient takes the "
            "offer); what a screening blocks is refused (R2-R8), and a patient adding "
            "themselves needs a screening that clears the type (R1). A course entry is "
            "offered a freed time when the whole course can start at it (R9-R12, R14)."
        ),
    )
    def create(self, request: PracticeAPIRequest) -> Response:
        given = WaitlistEntryInputSerializer(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        data = given.validated_data
        entry = waitlist_entry_add(
            practice=request.practice,
            patient=given.patient_of(request),
            massage_type=data["massage_type"],
            therapist=data.get("therapist"),
            first_day=data["first_day"],
            last_day=data["last_day"],
            earliest=data.get("earliest"),
            latest=data.get("latest"),
            weekdays=data.get("weekdays", []),
            note=data.get("note", ""),
            kind=data["kind"],
            sessions_count=data.get("sessions_count"),
            cadence=data.get("cadence", ""),
            by=request.user,
            by_patient=is_patient(request),
        )
        created = waitlist_entries(practice=request.practice).get(pk=entry.pk)
        return Response(WaitlistEntrySerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: WaitlistEntrySerializer,
            400: OpenApiResponse(description="The entry is no longer waiting."),
        },
        description="Take the entry off the waitlist; its open offer goes to the next entry.",
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: PracticeAPIRequest, pk: str | None = None) -> Response:
        entry = waitlist_entry_withdraw(entry=self.get_object(), by=request.user)
        shown = waitlist_entries(practice=request.practice).get(pk=entry.pk)
        return Response(WaitlistEntrySerializer(shown).data)
