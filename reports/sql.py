"""Aggregates over an aggregate: the ORM groups once, and some reports group the result again
(patients by how many courses they had; consecutive courses by therapist). The inner query
stays an ORM queryset, scoped by practice as every other; only the outer GROUP BY is SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import QuerySet


def regroup(
    inner: QuerySet[Any],
    *,
    select: str,
    group_by: str,
    where: str = "1 = 1",
    params: Sequence[date | str | int] = (),
) -> list[tuple]:
    """`SELECT {select} FROM (inner) WHERE {where} GROUP BY {group_by}` in one query; the
    inner queryset's columns are its `values()` names. `where` filters what the inner query
    computed (a window function's result), with `params` bound after the inner query's."""
    sql, inner_params = inner.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {select} FROM ({sql}) AS inner_rows WHERE {where} GROUP BY {group_by}",
            [*inner_params, *params],
        )
        return cursor.fetchall()


def ratio(part: float, whole: float) -> float | None:
    """`part / whole` to four places; None when there is no whole to divide."""
    return round(part / whole, 4) if whole else None


def hours(seconds: float) -> float:
    return round(seconds / 3600, 2)
