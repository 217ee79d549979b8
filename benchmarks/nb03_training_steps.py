"""Notebook 03's training step: Python's cycle collector on (baseline) against
``course.moons.paused_gc`` + ``release_graph`` (what the notebook does), in one run.

The engine is the notebook's own solution (its non-test, non-slow cells are
executed), the task is the notebook's: MLP(2, [16, 16, 1]) on the 100-point
moons, max-margin loss + L2 1e-4. Two models start from the same weights; the
steps alternate between the two modes so both see the same machine load. Prints
the median seconds per step of each mode, the ratio baseline / notebook, and
checks that both modes produce the same losses (the speed-up changes no number).

Run: ./run python benchmarks/nb03_training_steps.py [--steps N]   (about 15-40 s)
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import io
import random
import statistics
import time
from pathlib import Path

import nbformat

from course import moons

NB = Path(__file__).resolve().parent.parent / "source" / "03_value_engine" / "03_value_engine.ipynb"


def notebook_namespace() -> dict:
    space: dict = {"__name__": "__main__"}
    nb = nbformat.read(NB, as_version=4)
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in nb.cells:
            meta = cell.get("metadata", {})
            graded_test = meta.get("nbgrader", {}).get("grade") and not meta.get("nbgrader", {}).get("solution")
            if cell.cell_type != "code" or graded_test or "slow" in meta.get("tags", []):
                continue
            exec(compile(cell.source, "notebook cell", "exec"), space)
    return space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    ns = notebook_namespace()
    X, y = ns["X"], ns["y"]
    plain = ns["MLP"](2, [16, 16, 1], rng=random.Random(1337))
    fast = ns["MLP"](2, [16, 16, 1], rng=random.Random(1337))
    times: dict[str, list[float]] = {"collector on": [], "notebook": []}
    losses: dict[str, list[list[float]]] = {"collector on": [], "notebook": []}
    for k in range(args.steps):
        lr = 1.0 - 0.9 * k / 100
        gc.collect()
        t = time.perf_counter()
        loss, _ = ns["train_step"](plain, X, y, lr)
        del loss
        gc.collect()  # the baseline must also pay for freeing its graph
        times["collector on"].append(time.perf_counter() - t)
        losses["collector on"].append([q.data for q in plain.parameters()])

        t = time.perf_counter()
        with moons.paused_gc():
            loss, _ = ns["train_step"](fast, X, y, lr)
            moons.release_graph(loss)
            del loss
        times["notebook"].append(time.perf_counter() - t)
        losses["notebook"].append([q.data for q in fast.parameters()])
    same = losses["collector on"] == losses["notebook"]
    for mode, ts in times.items():
        print(f"{mode:13s} median {statistics.median(ts):.3f} s per step  (steps: {', '.join(f'{x:.3f}' for x in ts)})")
    ratio = statistics.median(times["collector on"]) / statistics.median(times["notebook"])
    print(f"ratio collector-on / notebook: {ratio:.1f}x   same parameters after every step: {same}")
    if not same:
        raise SystemExit("the two modes disagree: the speed-up changed a number")


if __name__ == "__main__":
    main()
