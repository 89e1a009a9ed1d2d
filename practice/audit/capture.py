"""Writes captured where nothing can bypass them: in the database.

On PostgreSQL every audited table carries an AFTER INSERT/UPDATE/DELETE row trigger (declared
with django-pgtrigger, installed after `migrate`) that appends an entry for the row: the model,
its id, its practice and patient, the changed column names and, for the columns
`practice.audit.policy` allows, their new values. The actor comes from the transaction-local
`audit.actor` setting that `practice.audit.context` puts in front of a request's writes; a
write from a shell, a task or raw SQL is still captured, with no user.

The audit table itself is append-only: a trigger refuses any UPDATE or DELETE. The one path
that may delete is the retention purge (`practice.audit.services.purge_expired_entries`),
which runs inside `pgtrigger.ignore(APPEND_ONLY)`: pgtrigger then sets its transaction-local
`pgtrigger.ignore` setting on the purge's own statements, and the trigger lets exactly those
through. (A database superuser can always drop a trigger; production runs the app under a role
that does not own the tables, so this holds against the application and its users.)

SQLite has no triggers: `make run` there records writes from Django's model signals instead,
which a queryset's `update()`, `bulk_create()` or raw SQL bypasses. The tests run on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pgtrigger
from django.apps import apps
from django.db import connection, models
from django.db.models.signals import post_delete, post_save

from practice.audit.context import ACTOR_SETTING, current
from practice.audit.models import AuditEntry
from practice.audit.policy import AUDITED_APPS, PATIENT_MODEL, VALUE_COLUMNS

APPEND_ONLY = "audit.AuditEntry:append_only"


def _sql_text_array(items: tuple[str, ...] | list[str]) -> str:
    quoted = ",".join("'" + item.replace("'", "''") + "'" for item in items)
    return f"ARRAY[{quoted}]::text[]"


def _practice_column(model: type[models.Model]) -> str | None:
    if model._meta.label_lower == "practice.practice":
        return model._meta.pk.column if model._meta.pk else None
    names = {field.name: field for field in model._meta.concrete_fields}
    return names["practice"].column if "practice" in names else None


def _patient_column(model: type[models.Model]) -> str | None:
    if model._meta.label_lower == PATIENT_MODEL:
        return model._meta.pk.column if model._meta.pk else None
    for field in model._meta.concrete_fields:
        related = field.related_model
        if (
            field.many_to_one
            and related is not None
            and not isinstance(related, str)
            and related._meta.label_lower == PATIENT_MODEL
        ):
            return field.column
    return None


class AuditedWrite(pgtrigger.Trigger):
    """Appends an audit entry for each row written."""

    when = pgtrigger.After
    operation = pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete
    declare = [
        ("actor", "jsonb"),
        ("old_row", "jsonb"),
        ("new_row", "jsonb"),
        ("the_row", "jsonb"),
        ("changed", "text[]"),
    ]

    def get_func(self, model: Any) -> str:
        practice_column = _practice_column(model)
        patient_column = _patient_column(model)
        practice = (
            f"COALESCE((the_row ->> '{practice_column}')::bigint, (actor ->> 'practice')::bigint)"
            if practice_column
            else "(actor ->> 'practice')::bigint"
        )
        patient = f"(the_row ->> '{patient_column}')::bigint" if patient_column else "NULL"
        value_columns = _sql_text_array(VALUE_COLUMNS.get(model._meta.label_lower, ()))
        pk_column = model._meta.pk.column
        label = model._meta.label_lower
        return f"""
            actor := NULLIF(current_setting('{ACTOR_SETTING}', true), '')::jsonb;
            IF TG_OP = 'INSERT' THEN
                new_row := to_jsonb(NEW);
                the_row := new_row;
                changed := ARRAY(SELECT key FROM jsonb_object_keys(new_row) AS key ORDER BY key);
            ELSIF TG_OP = 'UPDATE' THEN
                new_row := to_jsonb(NEW);
                old_row := to_jsonb(OLD);
                the_row := new_row;
                changed := ARRAY(
                    SELECT key FROM jsonb_each(new_row)
                    WHERE value IS DISTINCT FROM old_row -> key ORDER BY key
                );
                IF cardinality(changed) = 0 THEN
                    RETURN NULL;
                END IF;
            ELSE
                old_row := to_jsonb(OLD);
                the_row := old_row;
                changed := ARRAY[]::text[];
            END IF;
            INSERT INTO audit_auditentry (
                at, practice_id, user_id, ip, user_agent, action, model, object_id,
                patient_id, fields, "values", reason
            ) VALUES (
                now(),
                {practice},
                (actor ->> 'user')::bigint,
                (actor ->> 'ip')::inet,
                COALESCE(actor ->> 'ua', ''),
                CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update'
                    ELSE 'delete' END,
                '{label}',
                the_row ->> '{pk_column}',
                {patient},
                to_jsonb(changed),
                COALESCE(
                    (SELECT jsonb_object_agg(key, value) FROM jsonb_each(new_row)
                     WHERE key = ANY(changed) AND key = ANY({value_columns})),
                    '{{}}'::jsonb
                ),
                ''
            );
            RETURN NULL;
        """


def audited_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in AUDITED_APPS and not model._meta.proxy and model._meta.managed
    ]


def watch_writes() -> None:
    """Capture every write of the audited models (called once, when the apps are ready)."""
    pgtrigger.register(
        pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
    )(AuditEntry)
    trigger = AuditedWrite(name="audited_write")
    for model in audited_models():
        pgtrigger.register(trigger)(model)
    if connection.vendor != "postgresql":
        post_save.connect(_saved, dispatch_uid="audit-saved")
        post_delete.connect(_deleted, dispatch_uid="audit-deleted")


# --- SQLite: the same entries from model signals (no triggers there) ------------------------


def _signalled(instance: models.Model, action: str, fields: list[str]) -> None:
    model = type(instance)
    if model._meta.app_label not in AUDITED_APPS or model._meta.proxy:
        return
    actor = current()
    row = {field.column: field.value_from_object(instance) for field in model._meta.concrete_fields}
    practice_column = _practice_column(model)
    patient_column = _patient_column(model)
    allowed = VALUE_COLUMNS.get(model._meta.label_lower, ())
    AuditEntry.objects.create(
        practice_id=(row.get(practice_column) if practice_column else None)
        or (actor.practice_id if actor else None),
        user_id=actor.user_id if actor else None,
        ip=actor.ip if actor else None,
        user_agent=actor.user_agent if actor else "",
        action=action,
        model=model._meta.label_lower,
        object_id=str(instance.pk),
        patient_id=row.get(patient_column) if patient_column else None,
        fields=fields,
        values={column: row[column] for column in fields if column in allowed},
    )


def _saved(
    sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any
) -> None:
    update_fields = kwargs.get("update_fields")
    names = set(update_fields) if update_fields else None
    columns = [
        field.column
        for field in sender._meta.concrete_fields
        if field.column and (names is None or field.name in names)
    ]
    _signalled(instance, "create" if created else "update", sorted(columns))


def _deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    _signalled(instance, "delete", [])
