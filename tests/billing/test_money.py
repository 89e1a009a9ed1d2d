"""Money never goes through a float: totals, tax rounding and credit notes add up exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.money import line_amounts, minor_units, share, to_currency

prices = st.decimals(min_value=Decimal(0), max_value=Decimal(10_000), places=2)
rates = st.sampled_from([Decimal(0), Decimal(7), Decimal(19), Decimal("20"), Decimal("8.1")])
currencies = st.sampled_from(["EUR", "JPY", "KWD", "CHF"])


@given(
    lines=st.lists(st.tuples(prices, st.integers(1, 15), rates), min_size=1, max_size=12),
    gross=st.booleans(),
    currency=currencies,
)
def test_line_amounts_add_up_and_credit_notes_net_to_zero(
    lines: list[tuple[Decimal, int, Decimal]], gross: bool, currency: str
) -> None:
    amounts = [
        line_amounts(unit_price=p, quantity=q, tax_rate=r, gross_prices=gross, currency=currency)
        for p, q, r in lines
    ]
    unit = Decimal(1).scaleb(-minor_units(currency))
    for line in amounts:
        assert isinstance(line.net, Decimal)
        assert line.net + line.tax == line.gross
        assert line.gross == line.gross.quantize(unit)
        assert line.tax == line.tax.quantize(unit)
    total = sum((line.gross for line in amounts), Decimal(0))
    credit = sum((-line.gross for line in amounts), Decimal(0))
    assert total + credit == 0
    assert sum((line.net + line.tax for line in amounts), Decimal(0)) == total


@given(price=prices, rate=rates)
def test_gross_prices_keep_the_gross_and_net_prices_keep_the_net(
    price: Decimal, rate: Decimal
) -> None:
    gross = line_amounts(
        unit_price=price, quantity=1, tax_rate=rate, gross_prices=True, currency="EUR"
    )
    net = line_amounts(
        unit_price=price, quantity=1, tax_rate=rate, gross_prices=False, currency="EUR"
    )
    assert gross.gross == price
    assert net.net == price
    assert abs(gross.net * (100 + rate) / 100 - price) <= Decimal("0.01")


@given(total=prices, whole=st.integers(1, 15), data=st.data())
def test_shares_of_a_package_never_exceed_it(
    total: Decimal, whole: int, data: st.DataObject
) -> None:
    part = data.draw(st.integers(0, whole))
    assert Decimal(0) <= share(total, part, whole, "EUR") <= total
    assert share(total, whole, whole, "EUR") == total


def test_tax_is_rounded_half_up_to_the_currency() -> None:
    assert line_amounts(
        unit_price=Decimal("0.05"),
        quantity=1,
        tax_rate=Decimal(10),
        gross_prices=False,
        currency="EUR",
    ).tax == Decimal("0.01")
    assert to_currency(Decimal("1234.5"), "JPY") == Decimal(1235)
    assert to_currency(Decimal("1.2345"), "KWD") == Decimal("1.235")


def test_a_float_is_refused() -> None:
    with pytest.raises(TypeError):
        to_currency(0.1, "EUR")  # type: ignore[arg-type]
