"""What the audit trail captures, decided once per model.

Every write of a model of `AUDITED_APPS` is captured. An entry always names the changed
columns; it keeps their new *values* only for the columns listed in `VALUE_COLUMNS`: states and
links that are neither health data (screenings, records, notes, measurements) nor a person's
identity (names, contact details, date of birth). That is why erasing a patient never has to
rewrite the trail: no identity value is ever stored in it (see `patients.erasure`).
"""

from __future__ import annotations

AUDITED_APPS = frozenset({"practice", "patients", "courses", "therapy_sessions", "billing"})

# `Model._meta.label_lower` of the patient: this layer may not import the patients app.
PATIENT_MODEL = "patients.patient"

VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients.patient": ("archived", "consent_email", "consent_sms", "practice_id"),
    "courses.course": (
        "status",
        "sessions_count",
        "cadence",
        "therapist_id",
        "massage_type_id",
        "room_id",
    ),
    "therapy_sessions.session": ("status", "therapist_id", "room_id", "massage_type_id"),
    "practice.membership": ("role", "user_id"),
    "practice.user": ("is_active", "is_staff"),
    "practice.therapist": ("user_id", "active"),
}

DEFAULT_RETENTION_YEARS = 6
