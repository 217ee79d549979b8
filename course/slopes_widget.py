"""The slope explorer: a secant line that turns into the tangent as ``h`` shrinks.

For a function ``f``, a point ``x`` and a step ``h`` the secant through
``(x, f(x))`` and ``(x + h, f(x + h))`` has slope

    m_h = (f(x + h) - f(x)) / h,

the forward difference. The tangent at ``x`` has slope ``f'(x) = lim_{h->0} m_h``.
For a smooth ``f`` the gap is ``m_h - f'(x) = h f''(x) / 2 + O(h^2)``, so the
secant swings onto the tangent linearly in ``h``.

Two layers, so that everything can be tested without a browser:

* :func:`secant_data` computes all the numbers and line coordinates for one
  ``(x, h)`` (pure, no widgets, no drawing);
* :class:`SlopeExplorer` holds two ipywidgets 8 sliders (``x`` and ``h``, the
  latter logarithmic), a text panel and an ``Output`` widget with the
  matplotlib picture. Moving a slider recomputes :attr:`SlopeExplorer.state`
  and redraws; tests set ``explorer.x_slider.value`` and read the state.

In a notebook::

    from course.slopes_widget import SlopeExplorer
    SlopeExplorer(f, df=lambda x: 6 * x - 4, x=3.0, h=1.0)
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

import numpy as np


Func = Callable[[float], float]


@dataclass(frozen=True)
class SecantData:
    """Everything the explorer shows for one ``(x, h)``."""

    x: float  #: the point where the slope is wanted
    h: float  #: the step to the second point of the secant
    fx: float  #: ``f(x)``
    fxh: float  #: ``f(x + h)``
    secant_slope: float  #: ``(f(x + h) - f(x)) / h``
    tangent_slope: float  #: ``f'(x)``: from ``df`` if given, else a central difference
    grid: np.ndarray  #: x coordinates of the curve and both lines
    curve: np.ndarray  #: ``f`` on the grid
    secant: np.ndarray  #: the secant line on the grid: ``f(x) + secant_slope (t - x)``
    tangent: np.ndarray  #: the tangent line on the grid: ``f(x) + tangent_slope (t - x)``

    @property
    def error(self) -> float:
        """``secant_slope - tangent_slope``: about ``h f''(x) / 2`` for small ``h``."""
        return self.secant_slope - self.tangent_slope

    def summary(self) -> str:
        """One line of text for the panel under the sliders."""
        return (f"x = {self.x:.4g}, h = {self.h:.3g}: secant slope (f(x+h) - f(x))/h = "
                f"{self.secant_slope:.6g}, tangent slope f'(x) = {self.tangent_slope:.6g}, "
                f"gap = {self.error:.3g}")


def secant_data(f: Func, x: float, h: float, df: Func | None = None,
                x_range: tuple[float, float] | None = None, n: int = 201) -> SecantData:
    """The secant from ``x`` to ``x + h`` and the tangent at ``x``, with lines to draw.

    ``df`` is the exact derivative if known; otherwise the tangent slope is a
    central difference with a step near ``eps^(1/3)``. ``x_range`` is the span of
    the grid (default: ``x`` +- max(2, 1.5 |h|)). ``h`` must be non-zero.
    """
    x, h = float(x), float(h)
    if h == 0 or not np.isfinite(h):
        raise ValueError(f"h must be a non-zero finite number, not {h!r}: a secant needs two distinct points")
    fx, fxh = float(f(x)), float(f(x + h))
    secant_slope = (fxh - fx) / h
    # a central difference written here: course.numeric is withheld while notebook 01 is graded
    tangent_slope = float(df(x)) if df is not None else (float(f(x + 1e-5)) - float(f(x - 1e-5))) / 2e-5
    if x_range is None:
        half = max(2.0, 1.5 * abs(h))
        x_range = (x - half, x + half)
    grid = np.linspace(float(x_range[0]), float(x_range[1]), int(n))
    curve = np.array([float(f(t)) for t in grid])
    return SecantData(x=x, h=h, fx=fx, fxh=fxh, secant_slope=secant_slope,
                      tangent_slope=tangent_slope, grid=grid, curve=curve,
                      secant=fx + secant_slope * (grid - x),
                      tangent=fx + tangent_slope * (grid - x))


class SlopeExplorer:
    """Sliders for ``x`` and ``h``; a picture of ``f``, the secant and the tangent.

    Attributes a test (or a curious student) can use:

    * ``x_slider``, ``h_slider``: the ipywidgets sliders (``h`` on a log scale);
    * ``state``: the :class:`SecantData` of the current slider values;
    * ``panel``: an ``HTML`` widget with the numbers;
    * ``output``: the ``Output`` widget that holds the picture;
    * ``png``: the last picture as PNG bytes; ``draws``: how many were drawn;
    * ``widget``: the whole thing, a ``VBox`` (also shown when the explorer is
      the last expression of a cell).
    """

    def __init__(self, f: Func, df: Func | None = None, *, x: float = 3.0, h: float = 1.0,
                 x_min: float = -1.0, x_max: float = 4.0, x_range: tuple[float, float] = (-1.5, 4.5),
                 log10_h_min: float = -3.0, log10_h_max: float = 0.5, draw: bool = True) -> None:
        import ipywidgets as w

        self.f, self.df, self.x_range, self._draw_enabled = f, df, x_range, draw
        self.x_slider = w.FloatSlider(value=x, min=x_min, max=x_max, step=0.01, description="x",
                                      continuous_update=True, readout_format=".2f")
        self.h_slider = w.FloatLogSlider(value=h, base=10, min=log10_h_min, max=log10_h_max,
                                         step=0.05, description="h", continuous_update=True,
                                         readout_format=".3g")
        self.panel = w.HTML()
        self.output = w.Output(layout=w.Layout(min_height="330px"))
        self.widget = w.VBox([w.HBox([self.x_slider, self.h_slider]), self.panel, self.output])
        self.png: bytes = b""
        self.draws = 0
        self._ylim = self._fixed_ylim()
        self.x_slider.observe(self._on_change, names="value")
        self.h_slider.observe(self._on_change, names="value")
        self.update()

    # -- state ------------------------------------------------------------------
    def _fixed_ylim(self) -> tuple[float, float]:
        """The curve's range over the whole plot, padded: fixed so the picture does not jump."""
        t = np.linspace(*self.x_range, 401)
        y = np.array([float(self.f(v)) for v in t])
        lo, hi = float(np.min(y)), float(np.max(y))
        pad = 0.1 * (hi - lo or 1.0)
        return lo - pad, hi + pad

    def _on_change(self, change: dict) -> None:
        self.update()

    def update(self) -> SecantData:
        """Recompute :attr:`state` from the sliders, refresh the panel and redraw."""
        self.state = secant_data(self.f, self.x_slider.value, self.h_slider.value, self.df,
                                 x_range=self.x_range)
        s = self.state
        self.panel.value = (
            f"<code>secant slope (f(x+h) - f(x))/h = {s.secant_slope:.6g}</code> &nbsp; "
            f"<code>tangent slope f'(x) = {s.tangent_slope:.6g}</code> &nbsp; "
            f"<code>gap = {s.error:.3g}</code> &nbsp; (halve h and the gap about halves)")
        if self._draw_enabled:
            self._draw()
        return s

    # -- picture ----------------------------------------------------------------
    def render(self) -> bytes:
        """The current picture as PNG bytes (matplotlib's Agg canvas, no pyplot state)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        s = self.state
        fig = Figure(figsize=(6.4, 3.6), dpi=80)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.plot(s.grid, s.curve, color="black", lw=1.5, label="f(x)")
        ax.plot(s.grid, s.tangent, "--", color="tab:green", lw=1.2,
                label=f"tangent, slope {s.tangent_slope:.4g}")
        ax.plot(s.grid, s.secant, color="tab:orange", lw=1.5,
                label=f"secant, slope {s.secant_slope:.4g}")
        ax.plot([s.x, s.x + s.h], [s.fx, s.fxh], "o", color="tab:orange")
        ax.annotate("x", (s.x, s.fx), textcoords="offset points", xytext=(-12, 6))
        ax.annotate("x+h", (s.x + s.h, s.fxh), textcoords="offset points", xytext=(4, -14))
        ax.set_xlim(*self.x_range)
        ax.set_ylim(*self._ylim)
        ax.set_xlabel("x")
        ax.set_title(f"h = {s.h:.3g}: the secant's slope is off by {s.error:.3g}", fontsize=10)
        ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()

    def _draw(self) -> None:
        from IPython import get_ipython
        from IPython.display import Image, display

        self.png = self.render()
        self.draws += 1
        if get_ipython() is None:  # plain Python (tests): nothing to show the picture in
            return
        with self.output:
            self.output.clear_output(wait=True)
            display(Image(data=self.png, format="png"))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
