"""The step-by-step graph widget on a 300-node graph: set-up once, then per step.

Measured in one run, on a graph of about 300 nodes (a small tanh network: each
layer multiplies neighbouring values, scales, adds and squashes, so values are
reused and nodes receive several contributions):

1. set-up, once per graph: tracing into records (course.graph.trace), laying
   out with graphviz-pure's ``dot`` and decorating the SVG, and the whole
   ``GraphStepper(out)`` call;
2. one step on the Python side (``jump(k)``: build the CSS rules and the
   panel text and set the widgets' values), over every step of the forward and
   backward pass; target: under 50 ms per step. Prints the ratio to the
   target (below 1 is good);
3. the baseline a naive widget would pay per step: one re-layout and new
   picture (``dot`` again), and the bytes a step sends against the picture's
   size (what re-sending the picture per step would cost).

    ./run python benchmarks/graph_widget.py [--nodes 300] [--repeats 5]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import ipywidgets

from course import graph_svg
from course.graph import trace
from course.stepper import GraphStepper

TARGET_MS = 50.0

try:  # the course's engine when present; a tiny one otherwise (same interface)
    from course.engine import Value
except ImportError:  # pragma: no cover
    sys.path.insert(0, "tests")
    from test_graph import Value  # type: ignore


def network(nodes: int = 300, width: int = 4):
    """About ``nodes`` nodes: tanh layers over ``width`` values (20 nodes per layer)."""
    xs = [Value(0.1 * (i + 1)) for i in range(width)]
    for _ in range(max(1, round((nodes - 2 * width) / (5 * width)))):
        xs = [(xs[i] * xs[(i + 1) % width] * 0.5 + xs[i]).tanh() for i in range(width)]
    return sum(xs[1:], xs[0])


def best_and_median(f, repeats: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    out = network(args.nodes)
    graph = trace(out)
    n, e = len(graph.nodes), len(graph.backward)
    print(f"graph: {n} nodes, {e} edges (engine: {Value.__module__})")

    t_trace, m_trace, _ = best_and_median(lambda: trace(out), args.repeats)
    t_lay, m_lay, lay = best_and_median(
        lambda: graph_svg.layout(graph, max_nodes=max(400, n), slot_width=13), args.repeats)
    t_widget, m_widget, w = best_and_median(
        lambda: GraphStepper(out, max_nodes=max(400, n)), args.repeats)
    print("set-up, once per graph (best / median of %d):" % args.repeats)
    print(f"  trace into records        {1e3 * t_trace:8.1f} / {1e3 * m_trace:8.1f} ms")
    print(f"  lay out with dot          {1e3 * t_lay:8.1f} / {1e3 * m_lay:8.1f} ms")
    print(f"  GraphStepper(out) total   {1e3 * t_widget:8.1f} / {1e3 * m_widget:8.1f} ms"
          f"   (trace + layout + SVG + widgets)")

    sent: list[int] = []
    ipywidgets.Widget._send = lambda self, msg, buffers=None: sent.append(len(json.dumps(msg)))
    per_step, per_bytes = [], []
    for _ in range(args.repeats):
        for k in list(range(1, w.n_steps)) + [0]:
            sent.clear()
            t = time.perf_counter()
            w.jump(k)
            per_step.append(time.perf_counter() - t)
            per_bytes.append(sum(sent))
    mean_ms = 1e3 * statistics.fmean(per_step)
    p99_ms = 1e3 * sorted(per_step)[int(0.99 * (len(per_step) - 1))]
    max_ms = 1e3 * max(per_step)
    print(f"one step on the Python side, over {w.n_steps} steps x {args.repeats}:")
    print(f"  mean {mean_ms:.3f} ms, 99th percentile {p99_ms:.3f} ms, max {max_ms:.3f} ms")
    print(f"  ratio to the {TARGET_MS:.0f} ms target: mean {mean_ms / TARGET_MS:.4f}, "
          f"max {max_ms / TARGET_MS:.4f}  (below 1 meets the target)")

    t_relayout, _, _ = best_and_median(
        lambda: graph_svg.layout(graph, max_nodes=max(400, n), slot_width=13), 1)
    picture = len(w.picture.value)
    print("baseline, a widget that re-lays out and re-sends the picture per step:")
    print(f"  re-layout {1e3 * t_relayout:.1f} ms per step = {t_relayout / (mean_ms / 1e3):.0f}x "
          f"this widget's step")
    print(f"  bytes per step: this widget {statistics.fmean(per_bytes):.0f} (max {max(per_bytes)}),"
          f" the picture {picture} = {picture / statistics.fmean(per_bytes):.0f}x more")


if __name__ == "__main__":
    main()
