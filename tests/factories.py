"""factory_boy factories for every model the tests build, and the few inputs they share. Each
practice-owned factory takes its practice from a related row when given one, so rows never
straddle two practices.

Rows the services would write with side effects go through those services: a practice gets its
catalogue and settings (`practice_create`), a screening its computed outcome (`screening_record`).
Sessions, courses, check-ins, records and reminders are written straight to their tables, as the
services would have left them but without their checks (the database constraints still apply):
history, occupied times and the states a test starts from. A test of booking books through
`session_book`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import factory
from django.db import models
from django.utils import timezone
from factory.django import DjangoModelFactory

from courses.models import CADENCE_GAP_DAYS, Course
from patients.models import Contraindication, Patient, Screening
from patients.screening import Kind
from patients.selectors import catalogue_for
from patients.services import AnswerInput, screening_record
from practice.models import (
    Closure,
    MassageType,
    Membership,
    Practice,
    Role,
    Room,
    Therapist,
    TimeOff,
    User,
    WorkingHours,
)
from practice.services import practice_create
from sessions.day.check_in import SAME_DAY_QUESTIONS, CheckInAnswer
from sessions.models import (
    Channel,
    CheckIn,
    Reminder,
    ReminderStatus,
    Session,
    SessionRecord,
    SessionStatus,
)
from sessions.reminders.messages import ReminderKind
from tests.clock import noon, today

ModelT = TypeVar("ModelT", bound=models.Model)

# Every UserFactory user's password.
PASSWORD = "correct-horse-battery"


class PracticeFactory(DjangoModelFactory[Practice]):
    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Practice {n}")
    slug = factory.Sequence(lambda n: f"practice-{n}")

    @classmethod
    def _create(cls, model_class: type[Practice], *args: object, **kwargs: object) -> Practice:
        return practice_create(**kwargs)


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    practice = factory.SubFactory(PracticeFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.FRONT_DESK


def massage_type(practice: Practice, code: str = "classical") -> MassageType:
    return MassageType.objects.get(practice=practice, code=code)


class TherapistFactory(DjangoModelFactory[Therapist]):
    """A therapist of the practice. `week=True` gives them working hours every day from 9:00
    to 20:00; `week__days=(0, 1)`, `week__starts=time(10)`, `week__ends=time(12)` narrow them
    (and imply the week)."""

    class Meta:
        model = Therapist
        skip_postgeneration_save = True

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Faker("name")

    @factory.post_generation
    def massage_types(
        self, create: bool, extracted: list[MassageType] | None, **kwargs: object
    ) -> None:
        """Qualified for the practice's whole catalogue unless told otherwise."""
        if create:
            self.massage_types.set(
                extracted
                if extracted is not None
                else MassageType.objects.for_practice(self.practice)
            )

    @factory.post_generation
    def week(self, create: bool, extracted: bool | None, **hours: Any) -> None:
        if not (create and (extracted or hours)):
            return
        starts, ends = hours.get("starts", time(9)), hours.get("ends", time(20))
        WorkingHours.objects.bulk_create(
            WorkingHoursFactory.build(therapist=self, weekday=day, starts=starts, ends=ends)
            for day in hours.get("days", range(7))
        )


class RoomFactory(DjangoModelFactory[Room]):
    class Meta:
        model = Room

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Sequence(lambda n: f"Room {n}")


class WorkingHoursFactory(DjangoModelFactory[WorkingHours]):
    class Meta:
        model = WorkingHours

    therapist = factory.SubFactory(TherapistFactory)
    practice = factory.SelfAttribute("therapist.practice")
    weekday = 0
    starts = time(9)
    ends = time(17)


class ClosureFactory(DjangoModelFactory[Closure]):
    class Meta:
        model = Closure

    practice = factory.SubFactory(PracticeFactory)
    reason = "Holiday"


class TimeOffFactory(DjangoModelFactory[TimeOff]):
    class Meta:
        model = TimeOff

    therapist = factory.SubFactory(TherapistFactory)
    practice = factory.SelfAttribute("therapist.practice")
    reason = "Leave"


class PatientFactory(DjangoModelFactory[Patient]):
    """A patient of the practice with a phone and an email address. `consenting=True`: they
    agreed to reminders by email and by SMS (turn one off with `consent_sms=False`); the date
    of the consent follows, today, as the model requires."""

    class Meta:
        model = Patient

    class Params:
        consenting = factory.Trait(consent_email=True, consent_sms=True)

    practice = factory.SubFactory(PracticeFactory)
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    date_of_birth = date(1975, 6, 15)
    phone = factory.Sequence(lambda n: f"+49151{n:07d}")
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    consent_email = False
    consent_sms = False
    consent_given_on = factory.LazyAttribute(
        lambda o: today(o.practice) if (o.consent_email or o.consent_sms) else None
    )


class PracticeOwnedFactory(DjangoModelFactory[ModelT]):
    """Takes `practice` from the first of the related rows named in `_practice_from` that the
    caller gives, else from the `practice` given, else makes one. Factories nesting another
    pass their practice on explicitly (`practice=factory.SelfAttribute("..practice")`)."""

    _practice_from: ClassVar[tuple[str, ...]] = ()

    practice = factory.SubFactory(PracticeFactory)

    @classmethod
    def _generate(cls, strategy: str, params: dict[str, Any]) -> ModelT:
        if "practice" not in params:
            for name in cls._practice_from:
                related = params.get(name)
                if related is not None:
                    params["practice"] = related.practice
                    break
        return super()._generate(strategy, params)


class ContraindicationFactory(DjangoModelFactory[Contraindication]):
    """An item a practice adds to its own screening catalogue, a caution unless told otherwise
    (the shared catalogue comes from a data migration)."""

    class Meta:
        model = Contraindication

    practice = factory.SubFactory(PracticeFactory)
    code = factory.Sequence(lambda n: f"own_{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("_", " ").capitalize())
    question = factory.LazyAttribute(lambda o: f"{o.name}?")
    kind = Kind.CAUTION


def answers_all_no(patient: Patient, **yes: str) -> list[AnswerInput]:
    """An answer to every item of the patient's practice's catalogue: "no", except the codes
    given as keywords, answered "yes" with the value as zone (empty string: no zone)."""
    return [
        AnswerInput(code=item.code, yes=item.code in yes, zone=yes.get(item.code, ""))
        for item in catalogue_for(practice=patient.practice_id)
    ]


class ScreeningFactory(DjangoModelFactory[Screening]):
    """A screening recorded through the real service, so its outcome (R1-R8) is computed:
    every answer "no" except the items in `yes` (code: zone, "" for none), a normal
    temperature, and for a hypertensive patient a blood pressure (R7). The outcome is then
    `cleared` (`restricted` to no vibration for a hypertensive patient, R8), valid from
    `screened_on` (default today) for the practice's validity (R1)."""

    class Meta:
        model = Screening

    patient = factory.SubFactory(PatientFactory)
    yes = factory.LazyFunction(dict)
    screened_on = None
    recorded_by = None
    temperature = Decimal("36.6")
    systolic = factory.LazyAttribute(lambda o: 130 if o.patient.hypertensive else None)
    diastolic = factory.LazyAttribute(lambda o: 80 if o.patient.hypertensive else None)

    @classmethod
    def _create(
        cls,
        model_class: type[Screening],
        *args: object,
        patient: Patient,
        yes: dict[str, str],
        **fields: Any,
    ) -> Screening:
        return screening_record(patient=patient, answers=answers_all_no(patient, **yes), **fields)


class SessionFactory(PracticeOwnedFactory[Session]):
    """A booked session at noon today, of the practice's classical massage, with a new patient
    and a therapist who works every day. It lasts its type's minutes (`minutes=` to change)
    and holds the therapist and room for the practice's buffer after it (R23; `buffer=`). A
    course's session takes the course's patient, therapist and type. `screened=True` gives
    the patient a cleared screening (R1), `kind=` picks the type by its code."""

    _practice_from = ("course", "therapist", "patient", "room")

    class Meta:
        model = Session
        skip_postgeneration_save = True

    class Params:
        kind = "classical"
        minutes = factory.LazyAttribute(lambda o: o.massage_type.default_minutes)
        buffer = factory.LazyAttribute(lambda o: o.practice.settings.buffer_minutes)

    course = None
    sequence = None
    patient = factory.Maybe(
        "course",
        factory.SelfAttribute("course.patient"),
        factory.SubFactory(PatientFactory, practice=factory.SelfAttribute("..practice")),
    )
    therapist = factory.Maybe(
        "course",
        factory.SelfAttribute("course.therapist"),
        factory.SubFactory(
            TherapistFactory, practice=factory.SelfAttribute("..practice"), week=True
        ),
    )
    massage_type = factory.Maybe(
        "course",
        factory.SelfAttribute("course.massage_type"),
        factory.LazyAttribute(lambda o: massage_type(o.practice, o.kind)),
    )
    starts_at = factory.LazyAttribute(lambda o: noon(o.practice))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(minutes=o.minutes))
    blocks_until = factory.LazyAttribute(lambda o: o.ends_at + timedelta(minutes=o.buffer))
    status = SessionStatus.BOOKED

    @factory.post_generation
    def screened(self, create: bool, extracted: bool | None, **fields: Any) -> None:
        if create and extracted:
            ScreeningFactory(patient=self.patient, **fields)


def _book_course_sessions(course: Course, create: bool, extracted: int | None, **_: object) -> None:
    if not create:
        return
    gap = timedelta(days=CADENCE_GAP_DAYS[course.cadence])
    for sequence in range(1, (course.sessions_count if extracted is None else extracted) + 1):
        day = course.start_date + gap * (sequence - 1)
        SessionFactory(
            course=course,
            sequence=sequence,
            starts_at=datetime.combine(day, course.preferred_time, tzinfo=course.practice.zone),
        )


class CourseFactory(PracticeOwnedFactory[Course]):
    """A course of 10 therapeutic massages every other day from today at noon, opened by a
    cleared screening of its patient (R1), with all its sessions booked one cadence gap apart
    (R10). `kind=` picks the type by its code; `booked=n` books only the first n sessions.
    `bare=True`: the course row alone, without opening screening or sessions (an earlier
    course in a patient's history, say)."""

    _practice_from = ("patient", "therapist")

    class Meta:
        model = Course
        skip_postgeneration_save = True

    class Params:
        kind = "therapeutic"
        bare = factory.Trait(screening=None)

    patient = factory.SubFactory(PatientFactory, practice=factory.SelfAttribute("..practice"))
    therapist = factory.SubFactory(
        TherapistFactory, practice=factory.SelfAttribute("..practice"), week=True
    )
    massage_type = factory.LazyAttribute(lambda o: massage_type(o.practice, o.kind))
    screening = factory.SubFactory(ScreeningFactory, patient=factory.SelfAttribute("..patient"))
    start_date = factory.LazyAttribute(lambda o: today(o.practice))
    preferred_time = time(12)
    booked = factory.Maybe(
        "bare",
        factory.PostGeneration(lambda *args, **kwargs: None),
        factory.PostGeneration(_book_course_sessions),
    )


def all_no(**yes: str) -> list[CheckInAnswer]:
    """An answer to every same-day question (check-in): "no", except the codes given,
    answered "yes" with the value as zone."""
    return [CheckInAnswer(code, code in yes, yes.get(code, "")) for code in SAME_DAY_QUESTIONS]


class CheckInFactory(PracticeOwnedFactory[CheckIn]):
    """A check-in with nothing new: every same-day question answered "no", a normal
    temperature; its session checked in."""

    _practice_from = ("session",)

    class Meta:
        model = CheckIn

    session = factory.SubFactory(
        SessionFactory,
        practice=factory.SelfAttribute("..practice"),
        status=SessionStatus.CHECKED_IN,
    )
    answers = factory.LazyFunction(
        lambda: {a.code: {"yes": a.yes, "zone": a.zone} for a in all_no()}
    )
    temperature = Decimal("36.6")


# What every rule accepts for a patient who is not hypertensive (R15-R18, R20).
GOOD_RECORD: dict[str, Any] = {
    "techniques": ["stroking", "rubbing", "kneading", "stroking"],
    "zones": ["lumbar", "lower_thoracic", "shoulders"],
    "pressure": "medium",
    "pain_before": 6,
    "pain_after": 3,
    "notes": "Tension in the lower back eased.",
}


def good_record(**changes: object) -> dict[str, object]:
    """The fields of `session_complete` for a record every rule accepts, with `changes`."""
    return {**GOOD_RECORD, **changes}


class SessionRecordFactory(PracticeOwnedFactory[SessionRecord]):
    """The record of a completed session (R20), one every rule accepts, strokes bottom-up."""

    _practice_from = ("session",)

    class Meta:
        model = SessionRecord

    session = factory.SubFactory(
        SessionFactory,
        practice=factory.SelfAttribute("..practice"),
        status=SessionStatus.COMPLETED,
    )
    techniques = factory.LazyFunction(lambda: list(GOOD_RECORD["techniques"]))
    zones = factory.LazyFunction(lambda: list(GOOD_RECORD["zones"]))
    pressure = GOOD_RECORD["pressure"]
    direction = "bottom_up"
    pain_before = GOOD_RECORD["pain_before"]
    pain_after = GOOD_RECORD["pain_after"]
    notes = GOOD_RECORD["notes"]


class ReminderFactory(PracticeOwnedFactory[Reminder]):
    """A pending SMS first reminder of a session, due a day before it, written for the
    session's current schedule (R22), with a dedupe key of its own."""

    _practice_from = ("session", "course", "patient")

    class Meta:
        model = Reminder

    session = factory.SubFactory(SessionFactory, practice=factory.SelfAttribute("..practice"))
    course = None
    patient = factory.Maybe(
        "session",
        factory.SelfAttribute("session.patient"),
        factory.Maybe(
            "course",
            factory.SelfAttribute("course.patient"),
            factory.SubFactory(PatientFactory, practice=factory.SelfAttribute("..practice")),
        ),
    )
    kind = ReminderKind.FIRST_REMINDER
    channel = Channel.SMS
    due_at = factory.Maybe(
        "session",
        factory.LazyAttribute(lambda o: o.session.starts_at - timedelta(days=1)),
        factory.LazyFunction(timezone.now),
    )
    send_after = factory.SelfAttribute("due_at")
    session_version = factory.Maybe("session", factory.SelfAttribute("session.schedule_version"))
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")
    status = ReminderStatus.PENDING
