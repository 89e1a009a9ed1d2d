"""The bench practice: 10 therapists, 2,000 patients, 200,000 past sessions. Built once and
reused; each run removes what earlier runs booked in the future."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from courses.models import Course
from patients.models import Patient
from practice.models import MassageType, Practice, Therapist, WorkingHours
from practice.services import practice_create
from sessions.models import Session, SessionStatus

SLUG = "bench"
THERAPISTS = 10
PATIENTS = 2000
PAST_DAYS = 2500
PER_DAY = 8  # 60-minute sessions every 80 minutes from 07:00 UTC
PAST_SESSIONS = THERAPISTS * PAST_DAYS * PER_DAY  # 200,000
BATCH = 5000


@dataclass
class World:
    practice: Practice
    therapists: list[Therapist]
    patients: list[Patient]
    massage_type: MassageType

    @property
    def summary(self) -> str:
        sessions = Session.objects.for_practice(self.practice).count()
        return (
            f"{len(self.therapists)} therapists, {len(self.patients)} patients, {sessions} sessions"
        )


def bench_practice() -> World:
    practice = Practice.objects.filter(slug=SLUG).first()
    if practice is None:
        practice = _build()
    practice = Practice.objects.select_related("settings").get(pk=practice.pk)
    _forget_future(practice)
    return World(
        practice=practice,
        therapists=list(Therapist.objects.for_practice(practice).order_by("pk")),
        patients=list(Patient.objects.for_practice(practice).order_by("pk")),
        massage_type=MassageType.objects.get(practice=practice, code="classical"),
    )


@transaction.atomic
def _build() -> Practice:
    practice = practice_create(name="Bench practice", slug=SLUG, time_zone="Europe/Berlin")
    types = list(MassageType.objects.for_practice(practice))
    therapists = []
    for number in range(THERAPISTS):
        therapist = Therapist.objects.create(practice=practice, name=f"Therapist {number + 1}")
        therapist.massage_types.set(types)
        therapists.append(therapist)
    # Monday to Saturday, 08:00-13:00 and 14:00-20:00 local time.
    WorkingHours.objects.bulk_create(
        WorkingHours(practice=practice, therapist=t, weekday=day, starts=starts, ends=ends)
        for t in therapists
        for day in range(6)
        for starts, ends in ((time(8), time(13)), (time(14), time(20)))
    )
    patients = Patient.objects.bulk_create(
        Patient(
            practice=practice,
            given_name=f"Given{n}",
            family_name=f"Family{n}",
            date_of_birth=datetime(1960 + n % 40, 1 + n % 12, 1 + n % 28, tzinfo=UTC).date(),
        )
        for n in range(PATIENTS)
    )
    kind = next(t for t in types if t.code == "classical")
    midnight = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = []
    for day in range(1, PAST_DAYS + 1):
        base = midnight - timedelta(days=day) + timedelta(hours=7)
        for slot in range(PER_DAY):
            starts_at = base + timedelta(minutes=80 * slot)
            for index, therapist in enumerate(therapists):
                # Distinct patients at any one time, so R19's patient constraint holds.
                patient = patients[(day * THERAPISTS * PER_DAY + index * PER_DAY + slot) % PATIENTS]
                rows.append(
                    Session(
                        practice=practice,
                        patient=patient,
                        therapist=therapist,
                        massage_type=kind,
                        starts_at=starts_at,
                        ends_at=starts_at + timedelta(minutes=60),
                        blocks_until=starts_at + timedelta(minutes=70),
                        status=SessionStatus.COMPLETED,
                    )
                )
        if len(rows) >= BATCH:
            Session.objects.bulk_create(rows)
            rows = []
    Session.objects.bulk_create(rows)
    return practice


def _forget_future(practice: Practice) -> None:
    """Earlier runs booked future sessions and courses; start each run from history only."""
    with transaction.atomic():
        future = Session.objects.for_practice(practice).filter(starts_at__gte=timezone.now())
        future.delete()
        Session.objects.for_practice(practice).filter(course__isnull=False).delete()
        Course.objects.for_practice(practice).delete()
