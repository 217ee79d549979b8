"""Notebook 03's whole training run, as the notebook runs it, with its progress lines.

The notebook's own solution engine (its non-test cells, as in
nb03_training_steps.py), MLP(2, [16, 16, 1]) on the 100-point moons, 100 steps,
``course.moons.paused_gc`` + ``release_graph`` (the collector trick) and
``course.moons.Progress`` printing a line every 10 steps. Prints the wall-clock
and CPU seconds of the run, the first step at 100% training accuracy, the final
loss, and the ratio of the run's time to the same 100 steps estimated with the
collector on (from ``--baseline-steps`` steps measured in the same run).

Run: ./run python benchmarks/nb03_training_run.py [--steps 100] [--baseline-steps 2]
(about 30 s on an idle 2-core machine, far longer on a loaded one: compare CPU seconds)
"""
from __future__ import annotations

import argparse
import gc
import random
import time

from course.moons import Progress, paused_gc, release_graph
from nb03_training_steps import notebook_namespace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--baseline-steps", type=int, default=2)
    args = parser.parse_args()
    ns = notebook_namespace()
    X, y, MLP, train_step, loss_fn = ns["X"], ns["y"], ns["MLP"], ns["train_step"], ns["loss_fn"]

    model = MLP(2, [16, 16, 1], rng=random.Random(1337))
    progress = Progress(args.steps, every=10)
    full_at = None
    wall, cpu = time.perf_counter(), time.process_time()
    with paused_gc():
        for k in range(args.steps):
            loss, accuracy = train_step(model, X, y, lr=1.0 - 0.9 * k / 100)
            progress.update(k, loss=loss.data, accuracy=accuracy)
            if accuracy == 1.0 and full_at is None:
                full_at = k + 1
            release_graph(loss)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    final_loss, final_accuracy = loss_fn(model, X, y)

    plain = MLP(2, [16, 16, 1], rng=random.Random(1337))
    base = time.process_time()
    for k in range(args.baseline_steps):  # the collector on, as without the trick
        loss, _ = train_step(plain, X, y, lr=1.0 - 0.9 * k / 100)
        del loss
        gc.collect()
    per_step = (time.process_time() - base) / args.baseline_steps

    print(f"{len(model.parameters())} parameters, {args.steps} steps: {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"({1000 * cpu / args.steps:.0f} ms CPU per step)")
    print(f"first step at 100% training accuracy: {full_at}; after training: loss {final_loss.data:.4f}, "
          f"accuracy {final_accuracy:.0%}")
    print(f"collector on: {per_step:.2f} s CPU per step, about {per_step * args.steps:.0f} s for the run; "
          f"ratio collector-on / notebook: {per_step * args.steps / cpu:.1f}x")


if __name__ == "__main__":
    main()
