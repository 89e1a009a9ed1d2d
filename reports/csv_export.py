"""A report's table as CSV: UTF-8 (with a byte-order mark, so spreadsheet programs read the
accents of names right), a header of column labels, numbers as plain numbers.

Text cells that a spreadsheet would take for a formula (starting with =, +, -, @, a tab or a
carriage return: a patient called "=HYPERLINK(...)") get a leading apostrophe, the escape
OWASP recommends for CSV injection; numbers are written as numbers and left alone.
"""

from __future__ import annotations

import csv
import io

from reports.registry import Table, Value

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return value


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(str(column.label)) for column in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(value) for value in row])
    return "\ufeff" + out.getvalue()
