"""A patient's right to erasure, within what the practice must keep.

`patient_erase` anonymises the identity at once: name, email, phone, exact date of birth (the
year is kept: clinical rules may depend on age), the emergency contact, and the portal account
(anonymised and closed unless it also belongs to another practice, then only unlinked). The
clinical records (screenings, courses, sessions and their records) stay, attached to the
anonymous record, until the practice's retention has passed since the erasure; then
`erased_patients_purge` (a Celery beat task) deletes them with the patient.

Identity values never reach the audit trail (`practice.audit.policy` keeps column names only
for them). What else held them is scrubbed here: the admin's change history names rows by
their `str()`, which includes the patient's name, and the audit entries of the patient's own
portal requests keep their IP address and browser. Both are rewritten (the latter through the
audit's purge path, the only one allowed to touch its entries).
"""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from patients.export import patient_models
from patients.models import Patient
from practice.audit.models import Action
from practice.audit.services import record, scrub_actor, years_before
from practice.models import Membership, PracticeSettings
from practice.sign_in_limits import sign_in_records_forget

ERASED_NAME = "Erased"


def _forget_account(patient: Patient) -> None:
    user = patient.user
    if user is None:
        return
    Membership.objects.filter(practice_id=patient.practice_id, user=user).delete()
    patient.user = None
    scrub_actor(user_id=user.pk)
    if Membership.objects.filter(user=user).exists():
        return  # the account is also another practice's: theirs to keep
    sign_in_records_forget(email=user.email)
    user.email = f"erased-user-{user.pk}@erased.invalid"
    user.full_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["email", "full_name", "is_active", "password"])


def _scrub_admin_history(patient: Patient) -> None:
    """The admin's log names objects by their `str()`, which shows the patient's name."""
    for found in patient_models():
        ids = found.model._default_manager.filter(**{found.path: patient.pk}).values_list(
            "pk", flat=True
        )
        content_type = ContentType.objects.get_for_model(found.model)
        LogEntry.objects.filter(
            content_type=content_type, object_id__in=[str(pk) for pk in ids]
        ).update(object_repr=f"{found.model._meta.verbose_name} (erased patient)")


def patient_erase(*, patient: Patient, now: datetime) -> Patient:
    """Anonymise the patient's identity, keep their records for the retention period."""
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.erased_at is not None:
            raise ValidationError(_("This patient's data were erased already."))
        _scrub_admin_history(locked)
        _forget_account(locked)
        locked.given_name = ERASED_NAME
        locked.family_name = f"#{locked.pk}"
        locked.date_of_birth = date(locked.date_of_birth.year, 1, 1)
        locked.phone = ""
        locked.email = ""
        locked.emergency_contact_name = ""
        locked.emergency_contact_phone = ""
        locked.consent_email = False
        locked.consent_sms = False
        locked.archived = True
        locked.erased_at = now
        locked.full_clean(exclude=["user"])
        locked.save()
        record(action=Action.ERASURE, subject=locked, patient_id=locked.pk)
    return locked


def _deletion_order(kinds: list[type[models.Model]]) -> list[type[models.Model]]:
    """Rows that point at others go first, so no protected reference is left behind."""
    remaining = set(kinds)
    ordered: list[type[models.Model]] = []
    while remaining:
        free = [
            model
            for model in remaining
            if not any(
                other is not model
                and any(
                    field.is_relation and field.related_model is model
                    for field in other._meta.concrete_fields
                )
                for other in remaining
            )
        ]
        if not free:  # a cycle: let the collector sort out what is left
            free = sorted(remaining, key=lambda model: model._meta.label)
        ordered.extend(sorted(free, key=lambda model: model._meta.label))
        remaining -= set(free)
    return ordered


def patient_records_purge(*, patient: Patient) -> None:
    """Delete an erased patient and every row that belongs to them."""
    found = {item.model: item.path for item in patient_models()}
    with transaction.atomic():
        for model in _deletion_order(list(found)):
            model._default_manager.filter(**{found[model]: patient.pk}).delete()


def _kept_for_accounting(patient: Patient, found: dict[type[models.Model], str]) -> bool:
    """Does an accounting record the practice must keep (a model marked
    `kept_after_erasure`, e.g. an issued invoice) refer to the patient?"""
    return any(
        model._default_manager.filter(**{path: patient.pk}).exists()
        for model, path in found.items()
        if getattr(model, "kept_after_erasure", False)
    )


def erased_patients_purge(*, now: datetime) -> int:
    """Purge the erased patients whose practice's retention has passed; returns how many.
    A patient an accounting record refers to stays, anonymised, with what it refers to."""
    found = {item.model: item.path for item in patient_models()}
    purged = 0
    for practice_id, years in PracticeSettings.objects.values_list(
        "practice_id", "retention_years"
    ):
        due = Patient.objects.filter(
            practice_id=practice_id, erased_at__lt=years_before(now, years)
        )
        for patient in due:
            if _kept_for_accounting(patient, found):
                continue
            patient_records_purge(patient=patient)
            purged += 1
    return purged
