"""The one way evaltk writes a figure to a PNG: laid out in one pass, then drawn once.

Every figure evaltk saves has a constrained layout (labels fit inside the frame), and some are
saved to their tight bounding box (a stamped figure's banner sits above the frame). Given a
layout engine or ``bbox_inches="tight"``, matplotlib's ``savefig`` draws the whole figure once
without rendering (to run the layout and place every artist) and then again to render it, and
the constrained layout measures every axes twice. Here a figure of plain subplots is laid out
with the constrained layout's margins measured once, the engine is taken off, and a tight box
is measured directly, so ``savefig`` draws only once. On the demo's 50 run figures saving
took about a quarter less CPU (min of 3 saves each), and every PNG but the flows figure came
out pixel for pixel the same: the margins are the constrained layout's, measured once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure

#: Pixels per inch of every PNG evaltk writes (the book shows them at this size).
DPI = 110

#: Where a grid's frames start before they are measured, in inches (left, right, top, bottom,
#: between cells): about where one line of tick labels, an axis label and a title put them, so
#: that the frames rarely move far enough to change their ticks (which costs a second pass).
START_MARGINS = (0.75, 0.05, 0.25, 0.47, 0.72)

#: zlib level of the PNG: the same pixels, encoded in about two thirds of the time of the
#: default (6), for files about 6 % larger (measured on 16 of the demo's figures).
PNG_COMPRESSION = 1


def save_png(
    fig: Figure, path: Path, *, metadata: Mapping[str, str | None], tight: bool = False
) -> None:
    """Write ``fig`` to ``path`` at :data:`DPI`, to its tight bounding box when ``tight``.

    The figure is left laid out for saving (no layout engine, its positions fixed): draw it
    again only to save it again.
    """
    from matplotlib import rcParams

    with _no_minor_tick_overlap_check(fig):
        renderer = _settle_layout(fig)
        # A Bbox (not "tight") makes savefig use it as it is, without a draw to find it; the
        # pad is the one savefig adds to a box it finds.
        box = fig.get_tightbbox(renderer).padded(rcParams["savefig.pad_inches"]) if tight else None
        fig.savefig(
            path,
            dpi=DPI,
            bbox_inches=box,
            metadata=metadata,
            pil_kwargs={"compress_level": PNG_COMPRESSION},
        )


@contextmanager
def _no_minor_tick_overlap_check(fig: Figure) -> Iterator[None]:
    """Skip matplotlib's removal of minor ticks that fall on major ones, on every axis that
    has no minor ticks (its minor locator is a NullLocator), while ``fig`` is saved.

    Finding the minor ticks calls the major locator again to look for overlaps, even when
    there are no minor ticks to remove; on a date axis that locator walks a calendar rule.
    With no minor ticks nothing is removed, so the figure is drawn exactly the same. Each
    axis gets its setting back afterwards.
    """
    from matplotlib.ticker import NullLocator

    axes = [
        axis
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
        if isinstance(axis.get_minor_locator(), NullLocator) and axis.remove_overlapping_locs
    ]
    for axis in axes:
        axis.remove_overlapping_locs = False
    try:
        yield
    finally:
        for axis in axes:
            axis.remove_overlapping_locs = True


def _settle_layout(fig: Figure) -> RendererAgg:
    """Lay ``fig`` out once at :data:`DPI` and take its layout engine off; return the renderer.

    The renderer is the Agg one savefig draws the PNG with, so every text is measured as it
    will be drawn.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    fig.set_dpi(DPI)
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    engine = fig.get_layout_engine()
    if engine is None:
        return renderer
    shape = _plain_grid(fig)
    if isinstance(engine, ConstrainedLayoutEngine) and shape is not None:
        pads = engine.get()
        fig.set_layout_engine(None)  # before subplots_adjust, which the engine would refuse
        _fit_margins(fig, renderer, shape, pads["w_pad"], pads["h_pad"])
    else:  # colorbars, a suptitle, nested layouts: the engine's own layout
        engine.execute(fig)
        fig.set_layout_engine(None)
    return renderer


def _plain_grid(fig: Figure) -> tuple[int, int] | None:
    """The (rows, columns) of the one grid every axes of ``fig`` is a cell of, when nothing
    else needs room; None otherwise."""
    specs = [ax.get_subplotspec() for ax in fig.axes]  # a colorbar's axes has none
    grids = {spec.get_gridspec() for spec in specs if spec is not None}
    plain = (
        None not in specs
        and len(grids) == 1
        and not fig.subfigs
        and not fig.legends
        and fig.get_suptitle() == fig.get_supxlabel() == fig.get_supylabel() == ""
    )
    return grids.pop().get_geometry() if plain else None


def _fit_margins(
    fig: Figure, renderer: RendererAgg, shape: tuple[int, int], w_pad: float, h_pad: float
) -> None:
    """Leave ``w_pad``/``h_pad`` inches around each axes' labels, as the constrained layout does.

    Each axes is measured once (its ticks, labels, title and legend); a second time only if
    moving it changed its ticks (a longer axis can take one more tick, with a wider label).
    """
    _adjust(fig, shape, *START_MARGINS, *START_MARGINS[-1:])
    for _ in range(2):
        ticks = [_tick_locations(ax) for ax in fig.axes]
        _place(fig, renderer, shape, w_pad, h_pad)
        if ticks == [_tick_locations(ax) for ax in fig.axes]:
            return


def _tick_locations(ax: Axes) -> tuple[tuple[float, ...], tuple[float, ...]]:
    return tuple(ax.xaxis.get_majorticklocs()), tuple(ax.yaxis.get_majorticklocs())


def _place(
    fig: Figure, renderer: RendererAgg, shape: tuple[int, int], w_pad: float, h_pad: float
) -> None:
    """Set the grid's margins and gaps from each axes' decorations, measured where it is now."""
    rows, cols = shape
    # Inches each side of the frame, plus the pad, per grid row or column (the widest wins).
    left, right = [w_pad] * cols, [w_pad] * cols
    top, bottom = [h_pad] * rows, [h_pad] * rows
    for ax in fig.axes:
        if not ax.get_in_layout():
            continue
        spec = ax.get_subplotspec()
        drawn = ax.get_tightbbox(renderer, for_layout_only=True)
        if spec is None or drawn is None:
            continue
        frame = ax.get_position(original=True).transformed(fig.transFigure)
        to_inches = fig.dpi_scale_trans.inverted()
        frame, drawn = frame.transformed(to_inches), drawn.transformed(to_inches)
        first_col, last_col = spec.colspan.start, spec.colspan.stop - 1
        first_row, last_row = spec.rowspan.start, spec.rowspan.stop - 1
        left[first_col] = max(left[first_col], frame.x0 - drawn.x0 + w_pad)
        right[last_col] = max(right[last_col], drawn.x1 - frame.x1 + w_pad)
        top[first_row] = max(top[first_row], drawn.y1 - frame.y1 + h_pad)
        bottom[last_row] = max(bottom[last_row], frame.y0 - drawn.y0 + h_pad)
    # subplots_adjust takes one gap between all rows (columns): the widest one needed.
    row_gap = max((bottom[i] + top[i + 1] for i in range(rows - 1)), default=0.0)
    col_gap = max((right[i] + left[i + 1] for i in range(cols - 1)), default=0.0)
    _adjust(fig, shape, left[0], right[-1], top[0], bottom[-1], row_gap, col_gap)


def _adjust(
    fig: Figure,
    shape: tuple[int, int],
    left: float,
    right: float,
    top: float,
    bottom: float,
    row_gap: float,
    col_gap: float,
) -> None:
    """``subplots_adjust`` in inches: the margins and the gaps between rows and columns."""
    width, height = fig.get_size_inches()
    rows, cols = shape
    cell_h = (height - top - bottom - row_gap * (rows - 1)) / rows
    cell_w = (width - left - right - col_gap * (cols - 1)) / cols
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        top=1 - top / height,
        bottom=bottom / height,
        hspace=row_gap / cell_h,
        wspace=col_gap / cell_w,
    )
