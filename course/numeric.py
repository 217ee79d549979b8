"""Numerical slopes: the yardstick every derivative in the course is checked against.

For a function ``f`` and a step ``h``:

* forward difference ``(f(x + h) - f(x)) / h``, error ``h f''(x)/2 + O(h^2)``;
* central difference ``(f(x + h) - f(x - h)) / (2h)``, error ``h^2 f'''(x)/6 + O(h^4)``.

Both also suffer round-off of about ``eps |f(x)| / h`` (``eps`` = 2.2e-16), so
the total error is smallest near ``h ~ eps^(1/2)`` for the forward difference
and ``h ~ eps^(1/3)`` (about 6e-6) for the central one.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

EPS = float(np.finfo(float).eps)
#: step that balances truncation and round-off for a central difference on O(1) values
CENTRAL_H = EPS ** (1 / 3)


def forward_difference(f: Callable[[float], float], x: float, h: float = 1e-6) -> float:
    """``(f(x + h) - f(x)) / h``: first-order accurate."""
    return (f(x + h) - f(x)) / h


def central_difference(f: Callable[[float], float], x: float, h: float = CENTRAL_H) -> float:
    """``(f(x + h) - f(x - h)) / (2 h)``: second-order accurate."""
    return (f(x + h) - f(x - h)) / (2 * h)


def gradient(f: Callable[..., float], xs: Sequence[float], h: float = CENTRAL_H) -> np.ndarray:
    """Partial slopes of ``f(*xs)`` by central differences, nudging one input at a time.

    ``df/dx_i ~ (f(..., x_i + h, ...) - f(..., x_i - h, ...)) / (2 h)``.
    """
    xs = [float(x) for x in xs]
    out = np.empty(len(xs))
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        out[i] = (f(*up) - f(*down)) / (2 * h)
    return out


def array_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = CENTRAL_H) -> np.ndarray:
    """Central-difference gradient of a scalar function of an array, same shape as ``x``."""
    x = np.array(x, dtype=float)
    g = np.empty_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = float(f(x))
        flat[i] = old - h
        fm = float(f(x))
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return g


def error_order(hs: Sequence[float], errors: Sequence[float]) -> float:
    """Slope of log(error) against log(h): about 1 for forward, 2 for central differences.

    Only steps large enough that truncation dominates should be passed in.
    """
    hs = np.asarray(hs, dtype=float)
    errors = np.asarray(errors, dtype=float)
    keep = errors > 0
    if keep.sum() < 2:
        return float("nan")
    slope, _ = np.polyfit(np.log(hs[keep]), np.log(errors[keep]), 1)
    return float(slope)
