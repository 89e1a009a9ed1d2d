"""Bar charts drawn on the server as SVG: no script, no chart library. The page puts each beside
its table, which carries the same figures for screen readers and for copying."""

from __future__ import annotations

import math
from dataclasses import dataclass

from reports.registry import Kind, Table

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 64
# Colours come from CSS classes (the strict Content-Security-Policy forbids style attributes).
SERIES_CLASSES = ("series-0", "series-1", "series-2", "series-3")
MAX_LABEL = 14
# More groups than this and only every n-th is named on the x axis (each bar keeps its name
# in its tooltip, and the table names them all).
MAX_LABELS = 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class Legend:
    label: str
    css: str


@dataclass(frozen=True)
class BarChart:
    title: str
    x_label: str
    y_label: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[Label, ...]
    legend: tuple[Legend, ...]

    @property
    def plot_bottom(self) -> int:
        return self.height - BOTTOM

    @property
    def x_label_x(self) -> float:
        return LEFT + (self.width - LEFT - RIGHT) / 2

    @property
    def y_label_y(self) -> float:
        return TOP + (self.height - TOP - BOTTOM) / 2


def nice_step(top: float, *, whole: bool) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about five grid lines; at least 1
    for `whole` numbers (counts), which have no tick between."""
    if top <= 0:
        return 1
    rough = max(top / 5, 1) if whole else top / 5
    power = 10 ** math.floor(math.log10(rough))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= rough)


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _number(value: float, kind: Kind) -> str:
    if kind == Kind.RATIO:
        return f"{value * 100:.0f} %"
    return f"{value:g}"


def bar_chart(table: Table) -> BarChart | None:
    """The table's chart as bars, or None when it has none or no row to draw."""
    spec = table.chart
    if spec is None or not table.rows:
        return None
    categories = [table.column_index(key) for key in spec.category]
    series = [(index, table.columns[index]) for index in map(table.column_index, spec.series)]
    kind = series[0][1].kind
    values = [[float(row[index] or 0) for index, _column in series] for row in table.rows]
    top = max((value for group in values for value in group), default=0)
    step = nice_step(top, whole=kind == Kind.COUNT)
    ceiling = step * max(1, math.ceil(top / step))
    span_x, span_y = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_width = span_x / len(table.rows)
    bar_width = group_width * 0.8 / len(series)

    def y(value: float) -> float:
        return TOP + span_y * (1 - value / ceiling)

    bars = []
    labels = []
    every = math.ceil(len(table.rows) / MAX_LABELS)
    for number, (row, group) in enumerate(zip(table.rows, values, strict=True)):
        left = LEFT + group_width * number + group_width * 0.1
        name = " · ".join(str(row[index]) for index in categories)
        if number % every == 0:
            labels.append(Label(round(LEFT + group_width * (number + 0.5), 1), _short(name)))
        for position, ((_index, column), value) in enumerate(zip(series, group, strict=True)):
            bars.append(
                Bar(
                    x=round(left + bar_width * position, 1),
                    y=round(y(value), 1),
                    width=round(bar_width, 1),
                    height=round(y(0) - y(value), 1),
                    css=SERIES_CLASSES[position % len(SERIES_CLASSES)],
                    title=f"{name}, {column.label}: {_number(value, kind)}",
                )
            )
    ticks = []
    tick = 0.0
    while tick <= ceiling + step / 2:
        ticks.append(Tick(round(y(tick), 1), _number(tick, kind)))
        tick += step
    return BarChart(
        title=str(table.title),
        x_label=str(spec.x_label),
        y_label=str(spec.y_label),
        width=WIDTH,
        height=HEIGHT,
        bars=tuple(bars),
        ticks=tuple(ticks),
        labels=tuple(labels),
        legend=tuple(
            Legend(str(column.label), SERIES_CLASSES[position % len(SERIES_CLASSES)])
            for position, (_index, column) in enumerate(series)
        ),
    )
