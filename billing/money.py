"""Money arithmetic: Decimal only, rounded to the currency's minor units, never a float.

Amounts are rounded half-up to the currency's minor units (2 for EUR, 0 for JPY, 3 for KWD).
Tax is computed per line and rounded per line; an invoice's totals are the sums of its lines,
so what the PDF shows always adds up.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

# ISO 4217 currencies whose minor unit is not the usual hundredth.
_MINOR_UNITS = {
    "BHD": 3,
    "CLP": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    "UGX": 0,
    "VND": 0,
}
HUNDRED = Decimal(100)


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def to_currency(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded (half up) to the currency's minor units."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"Money must be a Decimal, not {type(amount).__name__}.")
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


class LineAmounts(NamedTuple):
    net: Decimal
    tax: Decimal
    gross: Decimal


def line_amounts(
    *, unit_price: Decimal, quantity: int, tax_rate: Decimal, gross_prices: bool, currency: str
) -> LineAmounts:
    """A line's net, tax and gross from a unit price entered gross (tax included) or net, and
    a tax rate in percent. Net + tax == gross exactly, whichever way the price was entered."""
    total = to_currency(unit_price * quantity, currency)
    if gross_prices:
        net = to_currency(total * HUNDRED / (HUNDRED + tax_rate), currency)
        return LineAmounts(net=net, tax=total - net, gross=total)
    tax = to_currency(total * tax_rate / HUNDRED, currency)
    return LineAmounts(net=total, tax=tax, gross=total + tax)


def percent_of(amount: Decimal, percent: Decimal, currency: str) -> Decimal:
    return to_currency(amount * percent / HUNDRED, currency)


def share(total: Decimal, part: int, whole: int, currency: str) -> Decimal:
    """`part` of `whole` equal shares of `total` (e.g. the unused sessions of a package)."""
    if whole <= 0:
        raise ValueError("A share of nothing.")
    return to_currency(total * part / whole, currency)
