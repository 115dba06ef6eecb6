"""save_png lays a figure out as the constrained layout would, in one pass, and draws it once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
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
