"""Reads: who may see which patients, search, the practice's catalogue, screening status."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import (
    CharField,
    Exists,
    Expression,
    F,
    Func,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Lower
from django.utils import timezone

from patients.models import (
    Contraindication,
    ContraindicationOptOut,
    DoctorClearance,
    HighBloodPressure,
    Patient,
    Screening,
    ScreeningAnswer,
)
from patients.screening import CatalogueItem, Outcome
from practice.audit.services import record_read
from practice.models import Membership, Practice, Role, User


class FullName(Func):
    """`given_name || ' ' || family_name`: the very expression of the trigram index
    (migration 0002), so PostgreSQL can use it for substring search."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = CharField()

    def __init__(self) -> None:
        super().__init__(F("given_name"), Value(" "), F("family_name"))


def _contains(expression: str, needle: str) -> Q:
    # ILIKE (not Django's icontains, which wraps the column in UPPER() on PostgreSQL and so
    # cannot use a trigram index).
    return Q(**{f"{expression}__ilike_contains": needle})


def therapist_sees_own_patients_only(membership: Membership) -> bool:
    """A therapist sees the records of their own patients only, unless the practice opens
    all records to its therapists (`PracticeSettings.therapists_see_all_patients`)."""
    return (
        membership.role == Role.THERAPIST
        and not membership.practice.settings.therapists_see_all_patients
    )


def patients_visible_to(*, membership: Membership) -> QuerySet[Patient]:
    """The desk and managers see their practice's patients; a therapist those who have had
    (or have booked) a session with them (`therapist_sees_own_patients_only`); a patient user
    only their own record(s). Pages and API read patients, their screenings and their
    sessions through this, so a record hidden here is a 404 everywhere."""
    patients = Patient.objects.for_practice(membership.practice_id)
    if not membership.is_staff_role:
        return patients.filter(user_id=membership.user_id)
    if therapist_sees_own_patients_only(membership):
        # Through the sessions' reverse relation by name: the sessions app sits above this
        # one, so it is never imported here. A subquery, not a join: no duplicate rows.
        own = Patient.objects.filter(
            practice_id=membership.practice_id, sessions__therapist__user_id=membership.user_id
        )
        return patients.filter(pk__in=own.values("pk"))
    return patients


PHONE_QUERY = re.compile(r"^[+\d][\d\s()./-]{2,}$")


def patient_search(*, patients: QuerySet[Patient], query: str) -> QuerySet[Patient]:
    """Patients whose name contains every word of `query`, or whose phone or email contains it.

    Backed by trigram indexes on PostgreSQL (migrations 0002 and 0004), so it stays fast with
    100k patients; a phone query matches however it was typed ("0151 234", "+49 151-234").
    """
    query = query.strip()
    if not query:
        return patients
    words = query.split()
    matches = Q()
    for word in words:
        matches &= _contains("searched_name", word)
    matches |= _contains("email", query)
    if PHONE_QUERY.match(query):
        digits = re.sub(r"\D", "", query).lstrip("0")
        if len(digits) >= 3:
            matches |= _contains("phone", digits)
    # Not aliased "full_name": that is the model's property.
    return patients.alias(searched_name=FullName()).filter(matches)


def patient_duplicates(
    *,
    practice: Practice,
    given_name: str,
    family_name: str,
    date_of_birth: date | None,
    phone: str,
    email: str,
    exclude_id: int | None = None,
) -> QuerySet[Patient]:
    """Existing records of this practice that look like the same person: same name and date
    of birth, or the same phone or email."""
    same = Q(pk__in=[])
    if date_of_birth and given_name and family_name:
        same |= Q(
            date_of_birth=date_of_birth,
            given_name__iexact=given_name.strip(),
            family_name__iexact=family_name.strip(),
        )
    if phone:
        same |= Q(phone=phone)
    if email:
        same |= Q(email_lower=email.strip().lower())
    found = (
        Patient.objects.for_practice(practice)
        .alias(email_lower=Lower("email"))
        .filter(same)
        .order_by("id")
    )
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    return found


def duplicates_of(*, patient: Patient, limit: int = 5) -> list[Patient]:
    """Other records of the patient's practice that look like the same person."""
    return list(
        patient_duplicates(
            practice=patient.practice,
            given_name=patient.given_name,
            family_name=patient.family_name,
            date_of_birth=patient.date_of_birth,
            phone=patient.phone,
            email=patient.email,
            exclude_id=patient.pk,
        )[:limit]
    )


def catalogue_for(*, practice: Practice | int) -> QuerySet[Contraindication]:
    """The items this practice asks about: the shared default less what it switched off, plus
    its own active items."""
    switched_off = ContraindicationOptOut.objects.for_practice(practice).values(
        "contraindication_id"
    )
    return Contraindication.objects.filter(
        Q(practice=None) | Q(practice=practice), active=True
    ).exclude(pk__in=switched_off)


def catalogue_items(*, practice: Practice | int) -> dict[str, CatalogueItem]:
    return {item.code: item.as_item() for item in catalogue_for(practice=practice)}


@dataclass(frozen=True)
class ScreeningStatus:
    """The screening valid on a day, if any (R1), with its outcome as it stands that day."""

    screening: Screening | None
    outcome: Outcome | None

    @property
    def valid(self) -> bool:
        return self.screening is not None


def _screenings_as_of(on: date) -> QuerySet[Screening]:
    """Screenings dated on or before `on`, latest first. A self-reported screening not yet
    confirmed by staff is not a screening yet (R1): it neither counts nor supersedes."""
    return (
        Screening.objects.filter(screened_on__lte=on)
        .exclude(self_reported=True, confirmed_at=None)
        .order_by("-screened_on", "-recorded_at", "-id")
    )


def pending_self_report(*, patient: Patient) -> Screening | None:
    """The patient's latest questionnaire from the portal that staff have not confirmed yet,
    unless a screening recorded or confirmed since supersedes it."""
    latest = (
        Screening.objects.filter(practice_id=patient.practice_id, patient=patient)
        .order_by("-screened_on", "-recorded_at", "-id")
        .first()
    )
    return latest if latest is not None and latest.awaiting_confirmation else None


def patient_screening_status(*, patient: Patient, on: date) -> ScreeningStatus:
    """The latest screening dated on or before `on` that is still valid then: a later
    screening supersedes an earlier one, even when its outcome is worse (R1)."""
    latest = _screenings_as_of(on).filter(practice_id=patient.practice_id, patient=patient).first()
    if latest is None or not latest.is_valid_on(on):
        return ScreeningStatus(screening=None, outcome=None)
    return ScreeningStatus(screening=latest, outcome=latest.outcome.on(on, latest.screened_on))


def latest_screenings(*, patients: Iterable[Patient], on: date) -> dict[int, Screening]:
    """Each patient's latest screening dated on or before `on`, valid then or not, by patient
    id, in one query (R12 reads what it blocks)."""
    patients = list(patients)
    if not patients:
        return {}
    latest = _screenings_as_of(on).filter(patient=OuterRef("patient")).values("pk")[:1]
    screenings = Screening.objects.for_practice(patients[0].practice_id).filter(
        patient__in=patients, pk=Subquery(latest)
    )
    return {screening.patient_id: screening for screening in screenings}


LATEST_UTC_OFFSET = timedelta(hours=14)


def r8_readings_on(*, patient: Patient, on: date) -> list[HighBloodPressure]:
    """R8: the readings over the limit taken on the practice's local day `on`, from any
    screening or check-in; while there is one, no session of the patient goes ahead that day.

    Readings are dated the day they are taken (a screening cannot be dated in the future, a
    check-in is today's), so a day after
    today's date anywhere on Earth (UTC+14) holds none: most bookings, which are for a day
    ahead, need no query here."""
    if on > (timezone.now() + LATEST_UTC_OFFSET).date():
        return []
    return list(
        HighBloodPressure.objects.for_practice(patient.practice_id).filter(patient=patient, day=on)
    )


def valid_screening_exists(*, patient: OuterRef, on: OuterRef | Expression) -> Exists:
    """R1 in SQL, for a list: does the patient have a screening valid on `on` (an
    expression, e.g. a session's local day)? A self-reported one counts once confirmed, as in
    `patient_screening_status`."""
    return Exists(
        Screening.objects.filter(patient=patient, screened_on__lte=on, valid_until__gte=on).exclude(
            self_reported=True, confirmed_at=None
        )
    )


def screenings_of(*, patient: Patient) -> QuerySet[Screening]:
    return (
        Screening.objects.for_practice(patient.practice_id)
        .filter(patient=patient)
        .select_related("recorded_by", "confirmed_by")
        # One call each: the stubs give all the Prefetch objects of one call a single type.
        .prefetch_related(
            Prefetch("answers", ScreeningAnswer.objects.select_related("contraindication"))
        )
        .prefetch_related(
            Prefetch("clearances", DoctorClearance.objects.select_related("contraindication"))
        )
    )


def patient_records_of(*, user: User, practice: Practice | int) -> QuerySet[Patient]:
    return Patient.objects.for_practice(practice).filter(user=user, archived=False)


def patient_data_read(subject: Model, *, patient_id: int) -> None:
    """Record that `subject`, part of a patient's health data, is being served: called once by
    each page or API view that shows it (the audit trail's read entries)."""
    record_read(subject, patient_id=patient_id)
