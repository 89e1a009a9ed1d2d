"""The serializers of the sessions API: a session, booking and moving one, and the session
day's steps (check-in R7/R8/R2-R5, the record R15-R20, no-show R13, the protocol R14-R17)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from courses.models import MAX_SESSIONS, Course
from patients.api import FindingSerializer, PatientScopedSerializer
from patients.models import Patient
from patients.screening import Zone
from practice.api import DayField, MomentField, is_patient, renamed, status_field
from practice.models import MassageType, Role, Room, Therapist
from practice.permissions import PracticeRole
from practice.tenancy import PracticeAPIRequest
from sessions.booking.holds import payment_due
from sessions.booking.sessions import MIN_SESSION_MINUTES
from sessions.models import MAX_SESSION_MINUTES, CheckIn, Session, SessionRecord, SessionStatus
from sessions.records.techniques import BackZone, Direction, Pressure, Technique
from sessions.selectors import session_screening_needed

if TYPE_CHECKING:
    # Type aliases only: django-stubs-ext is a development requirement.
    from django_stubs_ext import StrOrPromise, StrPromise


ROOM_HELP = _(
    "R19: a room of this practice that suits the massage type; it must be free. Empty: a free "
    "room that suits the type is picked (none when the practice has no rooms)."
)


class SessionSerializer(serializers.ModelSerializer):
    status = status_field(SessionStatus, read_only=True)
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    therapist_name = serializers.CharField(source="therapist.name", read_only=True)
    massage_type_name = serializers.CharField(source="massage_type.display_name", read_only=True)
    room_name = serializers.CharField(
        source="room.name",
        read_only=True,
        allow_null=True,
        help_text=_("The session's room; null only in a practice without rooms."),
    )
    minutes = serializers.IntegerField(read_only=True)
    confirmed_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text=_(
            "R21: when the patient confirmed they will come, through the link in a reminder; "
            "null until then, and again after the session is moved."
        ),
    )
    screening_needed = serializers.SerializerMethodField(
        help_text=_(
            "R1: booked by staff ahead of a screening, and none is valid on its day yet: it "
            "will not start until the patient is screened."
        )
    )
    screening_to_confirm = serializers.SerializerMethodField(
        help_text=_(
            "R1: the patient's first visit, booked online on their own questionnaire: staff "
            "confirm the screening at check-in, and the session will not start until then."
        )
    )

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
            "room_name",
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
            "confirmed_at",
            "screening_needed",
            "screening_to_confirm",
        ]
        read_only_fields = fields

    def get_screening_needed(self, session: Session) -> bool:
        # Lists compute it in their one query (`session_list`); a session just booked, moved
        # or started is asked once more, the same way.
        annotated = getattr(session, "screening_needed", None)
        return annotated if annotated is not None else session_screening_needed(session)

    def get_screening_to_confirm(self, session: Session) -> bool:
        return session.self_report_id is not None and self.get_screening_needed(session)


class PaymentDueSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text=_('What is asked: "deposit".'))
    amount = serializers.DecimalField(max_digits=14, decimal_places=3)
    currency = serializers.CharField(help_text=_("ISO 4217."))
    due_at = serializers.DateTimeField(
        help_text=_("Unpaid by then, the booking is released and its time offered again.")
    )
    invoice = serializers.IntegerField(source="invoice_id", help_text=_("The invoice to pay."))
    pay_url = serializers.CharField(
        source="api_url",
        help_text=_(
            "POST here (no body) for a payment intent at the practice's payment provider, "
            "then confirm it with the provider's SDK and the intent's client secret."
        ),
    )


class BookedSessionSerializer(SessionSerializer):
    """The session just booked, with what the patient must still pay for it to stand."""

    payment_due = serializers.SerializerMethodField(
        help_text=_(
            "Null, or a payment the practice asks before the booking stands (a deposit for a "
            "session booked online): pay it by `due_at` or the booking is released."
        )
    )

    class Meta(SessionSerializer.Meta):
        fields = [*SessionSerializer.Meta.fields, "payment_due"]
        read_only_fields = fields

    @extend_schema_field(PaymentDueSerializer(allow_null=True))
    def get_payment_due(self, session: Session) -> dict[str, Any] | None:
        due = payment_due(session)
        return dict(PaymentDueSerializer(due).data) if due is not None else None


class SessionBookSerializer(PatientScopedSerializer):
    patient = serializers.PrimaryKeyRelatedField(
        queryset=Patient.objects.filter(archived=False),
        required=False,
        help_text=_("Staff: required. A patient books for themselves."),
    )
    therapist = serializers.PrimaryKeyRelatedField(queryset=Therapist.objects.all())
    massage_type = serializers.PrimaryKeyRelatedField(queryset=MassageType.objects.all())
    room = serializers.PrimaryKeyRelatedField(
        queryset=Room.objects.all(),
        required=False,
        allow_null=True,
        help_text=ROOM_HELP,
    )
    starts_at = MomentField()
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

    def scope(self, queryset: QuerySet[Any], request: PracticeAPIRequest) -> QuerySet[Any]:
        # A patient books into their own courses only.
        queryset = super().scope(queryset, request)
        if queryset.model is Course and is_patient(request):
            return queryset.filter(patient__user=request.user)
        return queryset


class SessionListQuerySerializer(PatientScopedSerializer):
    from_ = DayField(required=False)
    to = DayField(required=False)
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
    starts_at = MomentField()


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


class CheckInSerializer(serializers.ModelSerializer):
    blocked_by = FindingSerializer(source="blocked_findings", many=True, read_only=True)

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
    blocked_by = FindingSerializer(many=True)
    blocked_zones = serializers.ListField(
        child=serializers.CharField(), help_text=_("R3: zones closed for today.")
    )
    rebook_options = serializers.ListField(
        child=serializers.DateTimeField(),
        help_text=_("When blocked: free times from tomorrow to rebook the session."),
    )


def codes_help(text: StrOrPromise, codes: list[str]) -> StrPromise:
    # Lazy all the way: the text is translated when the schema is rendered, not at import.
    return format_lazy("{} {}", text, ", ".join(codes))


class CompleteSerializer(serializers.Serializer):
    # Codes are checked by the R20 rules (sessions.records.validation), whose messages name
    # the rule.
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
