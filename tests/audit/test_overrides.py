"""R12 overrides live in the audit trail, with their reason (moved there from the course)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from courses.services import Override, course_overrides_record
from practice.audit.models import Action, AuditEntry
from practice.models import Practice
from tests.factories import CourseFactory, PatientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

BEFORE = [("audit", "0001_initial"), ("courses", "0003_course_pause")]
AFTER = [
    ("audit", "0002_course_override_entries"),
    ("courses", "0004_remove_course_override_reasons"),
]


def test_r12_an_override_is_an_audit_entry_with_its_reason(practice: Practice) -> None:
    course = CourseFactory(patient=PatientFactory(practice=practice))
    course_overrides_record(course=course, overrides=[Override(rule="R12", reason="asked twice")])
    [entry] = AuditEntry.objects.filter(action=Action.OVERRIDE)
    assert (entry.model, entry.object_id) == ("courses.course", str(course.pk))
    assert (entry.reason, entry.values, entry.patient_id) == (
        "asked twice",
        {"rule": "R12"},
        course.patient_id,
    )


def test_r12_the_migration_carries_existing_overrides_into_the_trail(practice: Practice) -> None:
    course = CourseFactory(patient=PatientFactory(practice=practice))
    # The test's transaction holds deferred foreign-key checks, which block ALTER TABLE.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_course = executor.loader.project_state(BEFORE).apps.get_model("courses", "Course")
    old_course.objects.filter(pk=course.pk).update(
        override_reasons=[
            {"rule": "R12", "reason": "worked well", "by": None, "at": "2026-03-01T09:00:00+00:00"}
        ]
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    [entry] = AuditEntry.objects.filter(action=Action.OVERRIDE)
    assert (entry.object_id, entry.reason, entry.values) == (
        str(course.pk),
        "worked well",
        {"rule": "R12"},
    )
    assert entry.at.isoformat() == "2026-03-01T09:00:00+00:00"
