"""`__ilike_contains`: a case-insensitive substring match that a trigram index can serve.

Django's `icontains` wraps the column in UPPER() on PostgreSQL, which no index covers; ILIKE
on the bare column is what `gin_trgm_ops` indexes answer. SQLite's LIKE already ignores ASCII
case.
"""

from __future__ import annotations

from django.db.models import CharField, Lookup


@CharField.register_lookup
class ILikeContains(Lookup):
    lookup_name = "ilike_contains"

    def get_db_prep_lookup(self, value: object, connection: object) -> tuple[str, list[str]]:
        escaped = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return "%s", [f"%{escaped}%"]

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        operator = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
        return f"{lhs} {operator} {rhs} ESCAPE '\\'", [*lhs_params, *rhs_params]
