"""A patient's complete data, for their right of access and portability (JSON and a page).

Which rows belong to a patient is found by walking the model graph (`patient_models`): every
installed model with a relation leading to `Patient`, directly (a screening's `patient`) or
through others (a session record's `session__patient`). A model added later is exported
without touching this module; `tests/patients/test_export.py` walks the graph on its own and
fails if the export ever misses one. It is a walk of the app registry, not an import, so this
low app does not depend on the apps above it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core import serializers
from django.db import models

from patients.models import Patient
from practice.audit.models import Action, AuditEntry
from practice.audit.services import record

# Kept out of the export: a credential, not the patient's data.
SECRET_FIELDS = frozenset({"password"})


@dataclass(frozen=True)
class PatientModel:
    model: type[models.Model]
    # The ORM lookup from the model to the patient's id, e.g. "session__patient".
    path: str


def patient_models() -> list[PatientModel]:
    """Every model whose rows belong to a patient, with its shortest path to them."""
    found: dict[type[models.Model], str] = {Patient: "pk"}
    queue: deque[type[models.Model]] = deque([Patient])
    while queue:
        target = queue.popleft()
        for model in apps.get_models():
            if model in found:
                continue
            for field in model._meta.concrete_fields:
                if field.is_relation and field.related_model is target:
                    to_target = found[target]
                    found[model] = field.name if target is Patient else f"{field.name}__{to_target}"
                    queue.append(model)
                    break
    return [
        PatientModel(model=model, path=path)
        for model, path in sorted(found.items(), key=lambda item: item[0]._meta.label_lower)
    ]


def _rows(queryset: models.QuerySet[Any]) -> list[dict[str, Any]]:
    rows = []
    for item in serializers.serialize("python", queryset):
        fields = {
            name: value for name, value in item["fields"].items() if name not in SECRET_FIELDS
        }
        rows.append({"id": item["pk"], **fields})
    return rows


def patient_export(*, patient: Patient) -> dict[str, Any]:
    """Everything held about `patient`, by model label (`app_label.modelname`), plus their
    portal account and their access history; recorded in the audit trail as an export."""
    data: dict[str, Any] = {
        "patient": patient.pk,
        "records": {
            found.model._meta.label_lower: _rows(
                found.model._default_manager.filter(**{found.path: patient.pk}).order_by("pk")
            )
            for found in patient_models()
        },
    }
    user_model = apps.get_model("practice", "User")
    accounts = user_model._default_manager.filter(pk=patient.user_id) if patient.user_id else None
    data["account"] = _rows(accounts) if accounts is not None else []
    data["access_history"] = list(
        AuditEntry.objects.filter(practice_id=patient.practice_id, patient_id=patient.pk)
        .order_by("at", "id")
        .values("at", "action", "model", "object_id", "user_id", "fields")
    )
    record(action=Action.EXPORT, subject=patient, patient_id=patient.pk)
    return data
