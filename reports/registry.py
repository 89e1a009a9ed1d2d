"""What a report is, and the registry the pages, the CSV export and the API read.

A report answers for one practice and one period (`reports.period.Period`) with one or more
tables: named columns and rows of plain values (text, whole numbers, hours, ratios), each
table optionally drawn as a bar chart. The registry holds one instance per report, keyed by
its slug, filled by importing every module of `reports.kinds` at start-up.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from practice.models import Practice
from reports.period import Period

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Value = str | int | float | None


class Kind(StrEnum):
    """How a column's values read: the page formats them, CSV and the API keep them plain."""

    TEXT = "text"
    DATE = "date"
    COUNT = "count"
    HOURS = "hours"
    RATIO = "ratio"


@dataclass(frozen=True)
class Column:
    key: str
    label: StrOrPromise
    kind: Kind = Kind.COUNT


@dataclass(frozen=True)
class ChartSpec:
    """A table drawn as bars: one group per row, named by its `category` columns; one bar per
    column of `series`, measured on the y axis `y_label`."""

    category: tuple[str, ...]
    series: tuple[str, ...]
    x_label: StrOrPromise
    y_label: StrOrPromise


@dataclass(frozen=True)
class Table:
    key: str
    title: StrOrPromise
    columns: tuple[Column, ...]
    rows: Sequence[tuple[Value, ...]]
    chart: ChartSpec | None = None
    note: StrOrPromise = ""

    def column_index(self, key: str) -> int:
        return [column.key for column in self.columns].index(key)

    def as_dicts(self) -> list[dict[str, Value]]:
        keys = [column.key for column in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Report:
    """A report of the registry. Subclasses name themselves and compute their tables with a
    constant number of queries, whatever the period or the practice's size."""

    slug: ClassVar[str]
    title: ClassVar[StrOrPromise]
    description: ClassVar[StrOrPromise]
    # Where it stands in the list of reports.
    order: ClassVar[int]
    # Whether its tables count by week or by month (`Period.grouping`).
    grouped: ClassVar[bool] = False
    table_keys: ClassVar[tuple[str, ...]]

    def tables(self, *, practice: Practice, period: Period) -> list[Table]:
        raise NotImplementedError


@dataclass
class Registry:
    reports: dict[str, Report] = field(default_factory=dict)

    def add(self, report: Report) -> None:
        if report.slug in self.reports:
            raise ValueError(f"Two reports are named {report.slug!r}.")
        self.reports[report.slug] = report

    def all(self) -> list[Report]:
        return sorted(self.reports.values(), key=lambda report: (report.order, report.slug))

    def get(self, slug: str) -> Report | None:
        return self.reports.get(slug)


registry = Registry()


def register(cls: type[Report]) -> type[Report]:
    registry.add(cls())
    return cls


def autodiscover() -> None:
    from reports import kinds

    for module in pkgutil.iter_modules(kinds.__path__):
        importlib.import_module(f"{kinds.__name__}.{module.name}")
