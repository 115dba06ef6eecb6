"""save_png lays a figure out as the constrained layout would, in one pass, and draws it once."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, MonthLocator
from matplotlib.figure import Figure
from PIL import Image

from evaltk.estimators.figure_file import DPI, _settle_layout, save_png
from evaltk.registration.stamp import EXPLORATORY_RUN, stamp_figure


def _monthly(fig: Figure, ax_count: int) -> Figure:
    """A figure like the runs': monthly dates, two-line y labels, titles, a legend."""
    months = pd.date_range("2019-01-01", periods=60, freq="MS")
    values = np.linspace(0, 1234.5, 60) ** 1.1
    for ax in fig.subplots(ax_count, 1) if ax_count > 1 else [fig.add_subplot()]:
        ax.plot(months, values, "o-", label="observed")
        ax.set_title("A title above the frame")
        ax.set_xlabel("month")
        ax.set_ylabel("events per 100,000\n(bars: 95 % interval)")
        ax.legend(loc="best", fontsize="small")
    return fig


def _frames_px(fig: Figure) -> np.ndarray:
    """Every axes' frame in pixels (x0, y0, x1, y1)."""
    size = np.tile(fig.bbox.size, 2)
    return np.array([np.array(ax.get_position().extents) * size for ax in fig.axes])


def _constrained_frames(make: object) -> np.ndarray:
    fig = make()  # type: ignore[operator]
    fig.set_dpi(DPI)
    FigureCanvasAgg(fig)
    fig.get_layout_engine().execute(fig)
    return _frames_px(fig)


@pytest.mark.parametrize("ax_count", [1, 2])
def test_one_pass_layout_puts_frames_where_the_constrained_layout_does(ax_count: int) -> None:
    def make() -> Figure:
        return _monthly(Figure(figsize=(8, 6), layout="constrained"), ax_count)

    expected = _constrained_frames(make)
    fig = make()
    _settle_layout(fig)
    assert fig.get_layout_engine() is None  # savefig then draws once
    # Same measurements, same pads: equal to rounding (a pixel would show).
    np.testing.assert_allclose(_frames_px(fig), expected, atol=0.01)


def test_a_colorbar_figure_keeps_the_constrained_layout() -> None:
    def make() -> Figure:
        fig = Figure(figsize=(7, 4), layout="constrained")
        ax = fig.add_subplot()
        image = ax.imshow(np.arange(12.0).reshape(3, 4), aspect="auto")
        fig.colorbar(image, ax=ax, label="ATT(g,t)")
        ax.set_ylabel("cohort")
        return fig

    expected = _constrained_frames(make)
    fig = make()
    _settle_layout(fig)
    np.testing.assert_allclose(_frames_px(fig), expected, atol=0.01)


def test_a_stamped_figure_is_saved_with_its_banner(tmp_path: Path) -> None:
    fig = _monthly(Figure(figsize=(8, 4.5), layout="constrained"), 1)
    stamp_figure(fig, EXPLORATORY_RUN)
    plain, stamped = tmp_path / "plain.png", tmp_path / "stamped.png"
    save_png(_monthly(Figure(figsize=(8, 4.5), layout="constrained"), 1), plain, metadata={})
    save_png(fig, stamped, metadata={"evaltk": "x"}, tight=True)
    assert Image.open(plain).size == (880, 495)  # 8 x 4.5 inches at 110 dpi
    width, height = Image.open(stamped).size
    # The banner (11 pt bold text with a 0.4 em pad, above the frame) adds ~25-40 px on top
    # of the 495 px figure; the tight box trims the figure's own white edges.
    assert 520 <= height <= 545
    assert 860 <= width <= 900
    # Its red fill is in the image's top rows, so nothing of it is cut off.
    top = np.asarray(Image.open(stamped).convert("RGB"))[:40].reshape(-1, 3)
    assert ((top[:, 0] > 150) & (top[:, 1] < 40) & (top[:, 2] < 60)).sum() > 1000


class _CountingLocator(AutoDateLocator):
    """The date locator a monthly axis gets, counting its calls."""

    calls = 0

    def __call__(self) -> Sequence[float]:
        type(self).calls += 1
        return super().__call__()


def _dated(minor: bool) -> Figure:
    fig = _monthly(Figure(figsize=(8, 4.5), layout="constrained"), 2)
    for ax in fig.axes:
        ax.xaxis.set_major_locator(_CountingLocator())
        if minor:
            ax.xaxis.set_minor_locator(MonthLocator())
    return fig


@pytest.mark.parametrize("minor", [False, True])
def test_saving_skips_the_minor_overlap_check_only_where_there_are_no_minor_ticks(
    tmp_path: Path, minor: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without minor ticks the check finds nothing to remove: skipping it gives the same
    pixels and calls the date locator fewer times; with minor ticks it is kept. Either way
    each axis gets its setting back."""
    import evaltk.estimators.figure_file as figure_file

    _CountingLocator.calls = 0
    fig = _dated(minor)
    save_png(fig, tmp_path / "fast.png", metadata={})
    fast = _CountingLocator.calls
    monkeypatch.setattr(figure_file, "_no_minor_tick_overlap_check", lambda fig: nullcontext())
    _CountingLocator.calls = 0
    save_png(_dated(minor), tmp_path / "checked.png", metadata={})
    checked = _CountingLocator.calls

    assert (tmp_path / "fast.png").read_bytes() == (tmp_path / "checked.png").read_bytes()
    assert fast == checked if minor else fast < checked * 0.7
    assert all(axis.remove_overlapping_locs for ax in fig.axes for axis in (ax.xaxis, ax.yaxis))
