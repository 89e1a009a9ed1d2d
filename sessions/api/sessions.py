"""Availability and sessions API. Thin views: input serializer, one service, output serializer.

Staff act for any patient of their practice; a patient only for their own record: the
`patient` field's choices are narrowed to it, and the querysets to their own rows.

The session day (`sessions.day`): any staff member checks a patient in or marks a
no-show (the front desk does both; so may a therapist in a practice without one). Starting and
completing a session is clinical work: a therapist, for their own sessions, or a manager. The
planned protocol is the therapist's working plan, read by staff only; a patient sees their
sessions and their course's progress instead.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from practice.api import ListCursorPagination
from practice.idempotency import Idempotent
from practice.models import Role
from practice.permissions import (
    IsPracticeMember,
    IsStaff,
    PracticeRole,
    practice_request,
    request_membership,
)
from practice.tenancy import PracticeAPIRequest
from sessions.api.serializers import (
    BookedSessionSerializer,
    CancellationSerializer,
    CancelSerializer,
    CheckInInputSerializer,
    CheckInResultSerializer,
    CompletedSerializer,
    CompleteSerializer,
    IsClinician,
    NoShowSerializer,
    ProtocolSerializer,
    RescheduleSerializer,
    SessionBookSerializer,
    SessionListQuerySerializer,
    SessionSerializer,
)
from sessions.booking.sessions import (
    session_book,
    session_cancel,
    session_reschedule,
)
from sessions.day.check_in import CheckInAnswer, session_check_in
from sessions.day.running import (
    may_run_session,
    session_complete,
    session_no_show,
    session_protocol_for,
    session_start,
)
from sessions.models import Session
from sessions.selectors import session_list

TAKEN = OpenApiResponse(
    description=(
        "The time is taken (R19): `conflicts_with` names the session and whose time it is "
        "(`holder`: therapist, room or patient); or no room that suits the massage type is "
        "free then (`reason`: `no_room_free`)."
    )
)
WRONG_STATE = OpenApiResponse(
    description="The session is not in the state this step needs; `session_status` says which."
)


class SessionPagination(ListCursorPagination):
    ordering = ("starts_at", "id")


class SessionViewSet(
    Idempotent, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Sessions of the practice (a patient sees their own); book, move and cancel them. The
    list is paged by cursor (`next` and `previous`, no total), earliest first."""

    permission_classes = [IsPracticeMember]
    serializer_class = SessionSerializer
    pagination_class = SessionPagination
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
        sessions = session_list(membership=request_membership(self.request))
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
            membership=request_membership(self.request),
            first=data.get("from"),
            last=data.get("to"),
            therapist=data.get("therapist"),
            patient=data.get("patient"),
            status=data.get("status"),
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=SessionBookSerializer, responses={201: BookedSessionSerializer, 409: TAKEN}
    )
    def create(self, request: PracticeAPIRequest) -> Response:
        """Book a session. A patient's own booking may be held for a deposit: the answer's
        `payment_due` then says how much, by when, and where to ask for a payment intent."""
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
            online=request.membership.role == Role.PATIENT,
        )
        return Response(BookedSessionSerializer(session).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RescheduleSerializer, responses={200: SessionSerializer, 409: TAKEN})
    @action(detail=True, methods=["post"])
    def reschedule(self, request: PracticeAPIRequest, pk: str | None = None) -> Response:
        given = RescheduleSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        session = session_reschedule(
            session=self._session(),
            starts_at=given.validated_data["starts_at"],
            by=request.user,
            by_patient=request.membership.role == Role.PATIENT,
        )
        return Response(SessionSerializer(session).data)

    @extend_schema(
        request=CancelSerializer,
        responses={
            200: CancellationSerializer,
            409: OpenApiResponse(description="Only a booked session can be cancelled."),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: PracticeAPIRequest, pk: str | None = None) -> Response:
        given = CancelSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        result = session_cancel(
            session=self._session(),
            by=request.user,
            reason=given.validated_data["reason"],
            by_patient=request.membership.role == Role.PATIENT,
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
    def check_in(self, request: PracticeAPIRequest, pk: str | None = None) -> Response:
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
    def start(self, request: PracticeAPIRequest, pk: str | None = None) -> Response:
        session = session_start(session=self._own_session(), by=request.user)
        return Response(SessionSerializer(session).data)

    @extend_schema(
        request=CompleteSerializer, responses={200: CompletedSerializer, 409: WRONG_STATE}
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: PracticeAPIRequest, pk: str | None = None) -> Response:
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
    def no_show(self, request: PracticeAPIRequest, pk: str | None = None) -> Response:
        result = session_no_show(session=self._session(), by=request.user)
        return Response(NoShowSerializer(result).data)

    @extend_schema(responses=ProtocolSerializer)
    @action(detail=True, methods=["get"])
    def protocol(self, request: PracticeAPIRequest, pk: str | None = None) -> Response:
        protocol = session_protocol_for(self._session())
        return Response(ProtocolSerializer(protocol.as_json()).data)

    def _own_session(self) -> Session:
        """A therapist starts and completes their own sessions only; a manager any."""
        session = self._session()
        if not may_run_session(membership=request_membership(self.request), session=session):
            raise exceptions.PermissionDenied(_("This is another therapist's session."))
        return session

    def _session(self) -> Session:
        session = self.get_object()
        # The scoped queryset guarantees this; reusing the request's practice saves its
        # settings a query.
        session.practice = practice_request(self.request).practice
        return session
