"""factory_boy factories for every model the tests build. Each practice-owned factory takes
its practice from a related row when given one, so rows never straddle two practices."""

from __future__ import annotations

from datetime import date, time

import factory
from factory.django import DjangoModelFactory

from patients.models import Patient
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
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

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
    class Meta:
        model = Patient

    practice = factory.SubFactory(PracticeFactory)
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    date_of_birth = date(1975, 6, 15)
    phone = factory.Sequence(lambda n: f"+49151{n:07d}")
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
