"""R12 overrides move from the course's `override_reasons` JSON into the audit trail: one
entry per override, with its reason, its user and its time (courses 0004 then drops the
field). Reversing copies the entries back into the JSON; entries are never deleted."""

from __future__ import annotations

from datetime import datetime

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.utils import timezone

COURSE = "courses.course"


def _when(value: object, fallback: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return fallback
    return moment if moment.tzinfo else timezone.make_aware(moment, timezone.utc)


def overrides_to_entries(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Course = apps.get_model("courses", "Course")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    entries = []
    for course in Course.objects.exclude(override_reasons=[]).iterator():
        for override in course.override_reasons or []:
            entries.append(
                AuditEntry(
                    at=_when(override.get("at"), course.created_at),
                    practice_id=course.practice_id,
                    user_id=override.get("by"),
                    action="override",
                    model=COURSE,
                    object_id=str(course.pk),
                    patient_id=course.patient_id,
                    values={"rule": override.get("rule", "")},
                    reason=override.get("reason", ""),
                )
            )
    AuditEntry.objects.bulk_create(entries, batch_size=500)


def entries_to_overrides(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Course = apps.get_model("courses", "Course")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    by_course: dict[int, list[dict[str, object]]] = {}
    for entry in AuditEntry.objects.filter(action="override", model=COURSE).order_by("at", "id"):
        by_course.setdefault(int(entry.object_id), []).append(
            {
                "rule": entry.values.get("rule", ""),
                "reason": entry.reason,
                "by": entry.user_id,
                "at": entry.at.isoformat(),
            }
        )
    for course_id, overrides in by_course.items():
        Course.objects.filter(pk=course_id).update(override_reasons=overrides)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("courses", "0003_course_pause"),
    ]

    operations = [migrations.RunPython(overrides_to_entries, entries_to_overrides)]
