"""The SVG bar charts: bars scaled to the axis, whole-number ticks for counts, names thinned
out on a crowded axis."""

from __future__ import annotations

from reports.charts import BOTTOM, HEIGHT, TOP, bar_chart
from reports.registry import ChartSpec, Column, Kind, Table


def table(rows: list[tuple], kind: Kind = Kind.COUNT) -> Table:
    return Table(
        key="t",
        title="Title",
        columns=(Column("name", "Name", Kind.TEXT), Column("a", "A", kind), Column("b", "B", kind)),
        rows=rows,
        chart=ChartSpec(category=("name",), series=("a", "b"), x_label="X", y_label="Y"),
    )


def test_bars_are_scaled_to_the_highest_tick() -> None:
    chart = bar_chart(table([("one", 10, 5), ("two", 0, 2)]))

    assert chart is not None
    bottom = HEIGHT - BOTTOM
    assert [bar.height for bar in chart.bars] == [
        bottom - TOP,
        (bottom - TOP) / 2,
        0,
        (bottom - TOP) / 5,
    ]
    assert [tick.label for tick in chart.ticks] == ["0", "2", "4", "6", "8", "10"]
    assert chart.bars[0].title == "one, A: 10"
    assert [item.label for item in chart.legend] == ["A", "B"]


def test_counts_have_whole_ticks_and_ratios_percent_ticks() -> None:
    counts = bar_chart(table([("one", 1, 0)]))
    ratios = bar_chart(table([("one", 0.5, 0.25)], Kind.RATIO))

    assert counts is not None
    assert ratios is not None
    assert [tick.label for tick in counts.ticks] == ["0", "1"]
    assert [tick.label for tick in ratios.ticks] == ["0 %", "10 %", "20 %", "30 %", "40 %", "50 %"]


def test_a_crowded_axis_names_every_other_group_and_shortens_names() -> None:
    chart = bar_chart(table([(f"a rather long name {n}", n, n) for n in range(10)]))

    assert chart is not None
    assert len(chart.bars) == 20
    assert [label.text for label in chart.labels] == ["a rather long…"] * 5


def test_an_empty_table_has_no_chart() -> None:
    assert bar_chart(table([])) is None
