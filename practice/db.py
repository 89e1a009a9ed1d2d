"""Database features that only PostgreSQL has, declared so that SQLite still migrates.

The embedded default (SQLite) serves one user on a laptop; PostgreSQL is where the guarantees
live. These wrappers make the PostgreSQL-only parts no-ops elsewhere instead of failing.
"""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.db import migrations


def is_postgresql(connection: object) -> bool:
    return getattr(connection, "vendor", None) == "postgresql"


class PostgresOnlyExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint on PostgreSQL; nothing on SQLite, whose single writer and the
    services' own checks stand in for it."""

    def constraint_sql(self, model, schema_editor):
        return (
            super().constraint_sql(model, schema_editor)
            if is_postgresql(schema_editor.connection)
            else None
        )

    def create_sql(self, model, schema_editor):
        return (
            super().create_sql(model, schema_editor)
            if is_postgresql(schema_editor.connection)
            else None
        )

    def remove_sql(self, model, schema_editor):
        return (
            super().remove_sql(model, schema_editor)
            if is_postgresql(schema_editor.connection)
            else None
        )

    def validate(self, model, instance, exclude=None, using="default"):
        from django.db import connections

        if is_postgresql(connections[using]):
            super().validate(model, instance, exclude=exclude, using=using)


class PostgresOnlyRunSQL(migrations.RunSQL):
    """Raw SQL (trigram indexes and the like) applied on PostgreSQL only."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if is_postgresql(schema_editor.connection):
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if is_postgresql(schema_editor.connection):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
