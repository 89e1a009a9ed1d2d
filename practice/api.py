from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from practice.models import Membership, Practice, PracticeOwnedQuerySet, User
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

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "language", "practice", "role", "memberships"]


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
        return Response(self.get_serializer(user).data)
