"""A fuzz run of every operation of the API's own schema, as an anonymous caller, a member of
staff and a patient: no answer may be a server error, and every answer must be one the
schema documents, with the body it documents.

Bounded for CI: a few derandomized examples of valid and of invalid input per operation and
role, against one practice whose rows the path parameters name (random ids would only ever
reach the 404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from billing.models import PaymentMethod
from billing.payments import payment_record
from patients.models import Contraindication, Patient, Screening
from practice.models import Practice, Role, User
from sessions.models import Session, WaitlistEntry
from tests.billing.helpers import issued_for, priced
from tests.clock import noon, today
from tests.factories import (
    CourseFactory,
    PatientFactory,
    RoomFactory,
    SessionFactory,
    TherapistFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

EXAMPLES = 12
# Half the dates and moments generated are the calendar's ends, where date arithmetic
# overflows: Hypothesis alone rarely reaches them in a dozen examples.
EDGE_DAYS = [date.min, date.max]
EDGE_MOMENTS = ["0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59+14:00"]
schemathesis.openapi.format(
    "date", st.one_of(st.sampled_from(EDGE_DAYS), st.dates()).map(date.isoformat)
)
schemathesis.openapi.format(
    "date-time",
    st.one_of(
        st.sampled_from(EDGE_MOMENTS),
        st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    ),
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Rows:
    """The rows path parameters name: one of each kind a detail route reads."""

    patient: Patient
    screening: Screening
    session: Session
    course_id: int
    item: Contraindication
    massage_type_id: int
    therapist_id: int
    room_id: int
    waitlist_entry_id: int
    invoice_id: int
    payment_id: int

    def path_parameters(self, path: str) -> dict[str, int | str]:
        if "{report}" in path:
            return {"report": "utilisation"}
        if "{patient_pk}" in path:
            return {"patient_pk": self.patient.pk, "id": self.screening.pk}
        if "{id}" not in path:
            return {}
        # The collection the id belongs to: the segment before it (calendar/sessions/{id}/...).
        resource = path.split("/{id}")[0].rsplit("/", 1)[1]
        ids = {
            "patients": self.patient.pk,
            "sessions": self.session.pk,
            "courses": self.course_id,
            "contraindications": self.item.pk,
            "massage-types": self.massage_type_id,
            "therapists": self.therapist_id,
            "rooms": self.room_id,
            "waitlist": self.waitlist_entry_id,
            "invoices": self.invoice_id,
            "payments": self.payment_id,
        }
        return {"id": ids[resource]}


@pytest.fixture
def rows(practice: Practice, member: Callable[..., User]) -> tuple[Rows, dict[str, User]]:
    patient_user = member(practice, Role.PATIENT)
    patient = PatientFactory(practice=practice, user=patient_user)
    therapist = TherapistFactory(practice=practice, week=True)
    priced(practice)
    course = CourseFactory(patient=patient, therapist=therapist)
    invoice = issued_for(
        SessionFactory(practice=practice, patient=patient, starts_at=noon(practice, days=1))
    )
    found = Rows(
        patient=patient,
        screening=course.screening,
        session=course.sessions.order_by("sequence").first(),
        course_id=course.pk,
        item=Contraindication.objects.filter(practice=None).first(),
        massage_type_id=course.massage_type_id,
        therapist_id=therapist.pk,
        room_id=RoomFactory(practice=practice).pk,
        waitlist_entry_id=WaitlistEntry.objects.create(
            practice=practice,
            patient=patient,
            massage_type_id=course.massage_type_id,
            first_day=today(practice),
            last_day=today(practice, 7),
        ).pk,
        invoice_id=invoice.pk,
        payment_id=payment_record(
            invoice=invoice, amount=Decimal("1.00"), method=PaymentMethod.CASH, by=None
        ).pk,
    )
    return found, {"staff": member(practice, Role.MANAGER), "patient": patient_user}


def bearer(user: User | None) -> dict[str, str]:
    if user is None:
        return {}
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


def failures_of(operation: Any, rows: Rows, headers: dict[str, str]) -> str | None:
    """The first failing example of the operation, as schemathesis reports it, or None."""
    path_parameters = rows.path_parameters(operation.path)
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path_parameters),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path_parameters),
    )

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        fuzz()
    except (AssertionError, BaseExceptionGroup) as exc:
        return f"{operation.label}: {exc}"
    return None


@pytest.mark.parametrize("role", ["anonymous", "staff", "patient"])
def test_schema_fuzz_every_operation_answers_as_its_schema_says(
    role: str, rows: tuple[Rows, dict[str, User]], wsgi_app: WSGIHandler, monkeypatch
) -> None:
    # Throttling is tested on its own (tests/practice/test_api_base.py); here it would turn
    # most of the anonymous examples into 429s.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None})
    found, users = rows
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    headers = bearer(users.get(role))

    failures = []
    for result in schema.get_all_operations():
        # Each operation meets the rows as the fixture made them, not as the one before left
        # them (a cancelled course, an archived patient).
        with transaction.atomic():
            failure = failures_of(result.ok(), found, headers)
            transaction.set_rollback(True)
        if failure is not None:
            failures.append(failure)

    assert failures == [], "\n\n".join(failures)
