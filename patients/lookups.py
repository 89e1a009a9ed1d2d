"""`__ilike_contains`: a case-insensitive substring match that a trigram index can serve.

Django's `icontains` wraps the column in UPPER() on PostgreSQL, which no index covers; ILIKE
on the bare column is what `gin_trgm_ops` indexes answer. SQLite's LIKE already ignores ASCII
case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import CharField, Lookup

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

# SQL parameters as the stubs (and Django from 6.0) have them: a tuple.
Params = tuple[str | int, ...]


@CharField.register_lookup
class ILikeContains(Lookup):
    lookup_name = "ilike_contains"

    def get_db_prep_lookup(self, value: object, connection: object) -> tuple[str, Params]:
        escaped = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return "%s", (f"%{escaped}%",)

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, Params]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        operator = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
        return f"{lhs} {operator} {rhs} ESCAPE '\\'", (*lhs_params, *rhs_params)
