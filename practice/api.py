from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from patients.api import PatientSelfSerializer
from patients.selectors import patient_records_of
from practice.models import Membership, Practice, PracticeOwnedQuerySet, Role, User
from practice.permissions import IsPracticeMember, request_membership


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
    def get(self, request: Request) -> Response:
        membership = request_membership(request)
        user = User.objects.prefetch_related("memberships__practice__settings").get(
            pk=request.user.pk
        )
        user.current_membership = membership
        user.current_patient = (
            patient_records_of(user=user, practice=membership.practice)
            .select_related("practice__settings")
            .first()
            if membership.role == Role.PATIENT
            else None
        )
        return Response(self.get_serializer(user).data)
