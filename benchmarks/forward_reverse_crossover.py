"""Forward mode against reverse mode: where the full derivative gets cheaper by the other one.

Two shapes, each timed with the course's reference implementations
(:mod:`course.dual` for forward mode, :mod:`course.tape` and :mod:`course.reverse` for reverse mode) in one run:

* ``f: R^n -> R``, ``f(x) = sum_i sin(x_i) x_{(i+1) mod n}`` (3n operations): the
  gradient by ``n`` forward passes against one recording plus one backward sweep;
* ``g: R -> R^m``, the states ``y_k = sin(y_{k-1}) t + t`` of an iteration: the
  ``m`` derivatives by one forward pass against one recording plus ``m`` sweeps.

Before timing, both modes are checked to give the same derivatives. Each time is
the median of several repeats, the two modes alternating so that drifts in
machine load hit both. Prints, per size, the ratio (slower-by-theory mode) /
(faster-by-theory mode), and the measured crossover: the smallest size from
which reverse mode (first shape) or forward mode (second shape) stays faster.

    ./run python benchmarks/forward_reverse_crossover.py [--repeats 7] [--max 256]
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numpy as np

from course import dual, reverse
from course.dual import sin


def many_inputs(*xs):
    n = len(xs)
    total = 0.0
    for i in range(n):
        total = sin(xs[i]) * xs[(i + 1) % n] + total
    return total


def many_outputs(t, m: int):
    ys, y = [], t
    for _ in range(m):
        y = sin(y) * t + t
        ys.append(y)
    return ys


def median_times(a: Callable[[], object], b: Callable[[], object], repeats: int) -> tuple[float, float]:
    ta, tb = [], []
    for _ in range(repeats):
        for fn, out in ((a, ta), (b, tb)):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(ta), statistics.median(tb)


def crossover(sizes: list[int], wins: list[bool]) -> int | None:
    """The smallest size from which ``wins`` holds for every larger size."""
    for i, n in enumerate(sizes):
        if all(wins[i:]):
            return n
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--max", type=int, default=256)
    args = ap.parse_args()
    sizes = [2 ** k for k in range(0, int(np.log2(args.max)) + 1)]
    rng = np.random.default_rng(0)

    print("f: R^n -> R, full gradient      forward: n passes   reverse: 1 sweep")
    print("    n   forward (ms)   reverse (ms)   forward / reverse")
    wins = []
    for n in sizes:
        xs = list(rng.uniform(0.5, 1.5, size=n))
        np.testing.assert_allclose(dual.gradient(many_inputs, xs), reverse.gradient(many_inputs, xs),
                                   rtol=1e-12, atol=1e-14)
        tf, tr = median_times(lambda: dual.gradient(many_inputs, xs),
                              lambda: reverse.gradient(many_inputs, xs), args.repeats)
        wins.append(tr < tf)
        print(f"{n:5d}   {1e3 * tf:12.3f}   {1e3 * tr:12.3f}   {tf / tr:17.2f}")
    c = crossover(sizes, wins)
    print(f"crossover: reverse mode is faster for every n >= {c}" if c else "crossover: not reached")

    print()
    print("g: R -> R^m, full Jacobian      forward: 1 pass     reverse: m sweeps")
    print("    m   forward (ms)   reverse (ms)   reverse / forward")
    wins = []
    for m in sizes:
        g = lambda t: many_outputs(t, m)  # noqa: E731
        np.testing.assert_allclose(dual.jvp(g, [0.3], [1.0])[1], reverse.jacobian(g, [0.3])[:, 0],
                                   rtol=1e-12, atol=1e-14)
        tf, tr = median_times(lambda: dual.jvp(g, [0.3], [1.0]),
                              lambda: reverse.jacobian(g, [0.3]), args.repeats)
        wins.append(tf < tr)
        print(f"{m:5d}   {1e3 * tf:12.3f}   {1e3 * tr:12.3f}   {tr / tf:17.2f}")
    c = crossover(sizes, wins)
    print(f"crossover: forward mode is faster for every m >= {c}" if c else "crossover: not reached")


if __name__ == "__main__":
    main()
