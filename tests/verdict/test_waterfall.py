"""The waterfall fits its frame: every bar inside the axes, every label inside the figure."""

from __future__ import annotations

import warnings

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Rectangle

from evaltk.results.schema import Interval, Ledger, LedgerLine
from evaltk.verdict.waterfall import plot_waterfall


def _line(label: str, pounds: float, in_net: bool = True) -> LedgerLine:
    return LedgerLine(
        outcome=label.lower().replace(" ", "_"),
        label=label,
        outcome_class="displacement",
        agency="police",
        unit="events",
        averted=Interval(estimate=pounds / 100, ci_low=None, ci_high=None),
        hours=Interval(estimate=None, ci_low=None, ci_high=None),
        pounds=Interval(estimate=pounds, ci_low=pounds * 1.5, ci_high=pounds * 0.5),
        unit_cost_gbp=100.0,
        cost_per="event",
        source="test",
        in_net=in_net,
    )


def _ledger() -> Ledger:
    """The street-triage demo's shape: a saving first, which the last version drew past the
    right edge of its axes, and labels up to 60 characters."""
    lines = [
        _line("Section 136 detentions per 100,000 residents", 111_673.0),
        _line("Conveyances to A&E per 100,000 residents", -261_738.0),
        _line("Ambulance conveyances per 100,000 residents", -147_979.0),
        _line("Police minutes waiting at hospital per incident", 204_055.0, in_net=False),
        _line("Incidents referred on (GP, community or crisis team) per 100,000", -319_480.0),
        _line("Officer minutes per incident", 243_454.0),
    ]
    net = Interval(estimate=-374_070.0, ci_low=-858_223.0, ci_high=57_317.0)
    return Ledger(
        lines=lines,
        net_pounds=net,
        net_hours=net,
        police_hours_released=net,
        hours_added_elsewhere=net,
        cost_per_averted_detention=None,
        correlation={},
        method="test",
    )


def test_waterfall_artists_lie_inside_the_figure_and_bars_inside_the_axes() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Tight layout not applied" was the symptom
        fig, ax = plot_waterfall(_ledger())
        FigureCanvasAgg(fig)
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    frame = fig.bbox
    # The axes' tight box holds every drawn tick label, axis label and bar; the suptitle is
    # the figure's. Both must lie inside the figure, whose edge is where a PNG is cut.
    boxes = {
        "axes and labels": ax.get_tightbbox(renderer),
        "title": fig._suptitle.get_window_extent(renderer),  # type: ignore[attr-defined]
    }
    for name, box in boxes.items():
        assert box is not None
        assert frame.x0 - 0.5 <= box.x0 and box.x1 <= frame.x1 + 0.5, (name, box, frame)
        assert frame.y0 - 0.5 <= box.y0 and box.y1 <= frame.y1 + 0.5, (name, box, frame)
    low, high = ax.get_xlim()
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 6  # five lines in the net (one kept out) and the net bar
    for bar in bars:
        ends = sorted((bar.get_x(), bar.get_x() + bar.get_width()))
        assert low < ends[0] and ends[1] < high, ends
    # The net's interval (£858k added to £57.3k saved) is inside the axes too.
    assert low < -858.223 and high > 57.317
    # Each step starts where the one before ended (in thousands of pounds).
    assert bars[0].get_x() == 0 and bars[1].get_x() == bars[0].get_width()
