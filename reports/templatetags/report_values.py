"""How a report's value reads on the page (CSV and the API keep it plain)."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

from reports.registry import Kind, Value

register = template.Library()


@register.filter
def report_value(value: Value, kind: str) -> str:
    if value is None or value == "":
        return "—"
    if kind == Kind.RATIO and isinstance(value, int | float):
        return f"{number_format(value * 100, 1)} %"
    if kind == Kind.HOURS and isinstance(value, int | float):
        return number_format(value, 2)
    return str(value)


@register.filter
def cells(row: tuple, columns: tuple) -> list[tuple[Value, object]]:
    """A row's values with their columns, for the template to format each."""
    return list(zip(row, columns, strict=True))
