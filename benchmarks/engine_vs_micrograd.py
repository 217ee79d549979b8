"""course.engine against the published micrograd package, measured in the same run.

1. One forward and backward pass of micrograd's demo network, MLP(2, [16, 16, 1])
   (337 parameters), SVM max-margin loss + L2 over the 100-point moons batch,
   with each engine, from the same initial weights; repeats alternate between
   the engines so both see the same machine load. Prints best and median times
   and the ratio course / micrograd (below 1 means course.engine is faster).
   Again with Python's cycle collector switched off, which shows how much of
   the difference is garbage collection (micrograd's per-node closures form
   reference cycles; course.engine's graphs have none).
2. The depth of a chain ``x + 1 + 1 + ...`` at which micrograd's recursive
   backward fails, and course.engine backpropagating a chain 100,000 deep.

3. With ``--train``: micrograd's demo training (100 steps, learning rate
   1.0 - 0.9*k/100) with course.nn, printing loss, accuracy and time.

Run: ./run python benchmarks/engine_vs_micrograd.py [--repeats N] [--train]
(about 15 s; --train adds 100 training steps, 15-60 s)
"""
from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time

import micrograd.engine as mg
import micrograd.nn as mgnn
from sklearn.datasets import make_moons

import course.engine as ce
import course.nn as cnn


def say(*args: object) -> None:
    print(*args, flush=True)


def demo_loss(Value, model, X, y):
    """micrograd demo's loss, word for word, for either engine."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum((p * p for p in model.parameters()))
    return data_loss + reg_loss


def forward_backward(Value, model, X, y) -> tuple[float, float]:
    """Seconds for one forward + zero_grad + backward, and the loss."""
    gc.collect()
    t = time.perf_counter()
    loss = demo_loss(Value, model, X, y)
    model.zero_grad()
    loss.backward()
    seconds = time.perf_counter() - t
    value = float(loss.data)
    del loss
    return seconds, value


def compare(X, y, repeats: int, label: str) -> float:
    random.seed(1337)
    theirs = mgnn.MLP(2, [16, 16, 1])
    ours = cnn.MLP(2, [16, 16, 1], seed=1337)  # the same weights, drawn in the same order
    times: dict[str, list[float]] = {"micrograd": [], "course": []}
    losses = {}
    for r in range(repeats + 1):  # round 0 warms up and is not counted
        for name, V, model in (("micrograd", mg.Value, theirs), ("course", ce.Value, ours)):
            seconds, losses[name] = forward_backward(V, model, X, y)
            if r:
                times[name].append(seconds)
        say(f"  [{label}] round {r}/{repeats}: micrograd {seconds_str(times, 'micrograd')}"
            f"  course {seconds_str(times, 'course')}")
    if losses["micrograd"] != losses["course"]:
        say(f"  WARNING: the engines disagree on the loss: {losses}")
    else:
        say(f"  both engines give loss {losses['course']!r}")
    best = {k: min(v) for k, v in times.items()}
    median = {k: statistics.median(v) for k, v in times.items()}
    say(f"  micrograd: best {best['micrograd']:.3f} s, median {median['micrograd']:.3f} s")
    say(f"  course:    best {best['course']:.3f} s, median {median['course']:.3f} s")
    ratio = best["course"] / best["micrograd"]
    say(f"  ratio course/micrograd: best {ratio:.3f}, "
        f"median {median['course'] / median['micrograd']:.3f}")
    return ratio


def seconds_str(times, name):
    return f"{times[name][-1]:.3f} s" if times[name] else "(warm-up)"


def chain(Value, depth: int):
    x = Value(1.0)
    y = x
    for _ in range(depth):
        y = y + 1.0
    return x, y


def micrograd_fails(depth: int) -> bool:
    x, y = chain(mg.Value, depth)
    try:
        y.backward()
    except RecursionError:
        return True
    return False


def depth_limits() -> None:
    say(f"recursion limit of this Python: {sys.getrecursionlimit()}")
    ok, bad = 1, 5_000
    if not micrograd_fails(bad):
        say("  micrograd did not fail at depth 5,000 (unexpected)")
    else:
        while bad - ok > 1:  # bisect for the first depth micrograd cannot backpropagate
            mid = (ok + bad) // 2
            ok, bad = (ok, mid) if micrograd_fails(mid) else (mid, bad)
        say(f"  micrograd: RecursionError from a chain {bad:,} deep (depth {ok:,} still works)")
    t = time.perf_counter()
    x, y = chain(ce.Value, 100_000)
    y.backward()
    say(f"  course.engine: chain 100,000 deep, x.grad = {x.grad}, "
        f"build + backward {time.perf_counter() - t:.2f} s")


def train(X, y, gc_on: bool) -> None:
    model = cnn.MLP(2, [16, 16, 1], seed=1337)
    if not gc_on:
        gc.disable()  # course.engine's graphs have no cycles: reference counting frees them
    t = time.perf_counter()
    first = None
    try:
        for k in range(100):
            loss, scores = cnn.svm_loss(model, X, y)
            acc = cnn.accuracy(scores, y)
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data -= (1.0 - 0.9 * k / 100) * p.grad
            first = k if first is None and acc == 1.0 else first
            if k % 10 == 0 or k == 99:
                say(f"  step {k} loss {loss.data:.6f}, accuracy {acc:.0%}")
    finally:
        gc.enable()
    say(f"  100 steps in {time.perf_counter() - t:.1f} s (cycle collector "
        f"{'on' if gc_on else 'off'}); first 100% accuracy at step {first}, "
        f"final accuracy {cnn.accuracy(cnn.svm_loss(model, X, y)[1], y):.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--train", action="store_true", help="also time the demo's 100 steps")
    args = parser.parse_args()
    X, y = make_moons(n_samples=100, noise=0.1, random_state=1337)
    X, y = X.tolist(), [float(v) for v in y * 2 - 1]  # Python floats for both engines
    say("MLP(2, [16, 16, 1]), 337 parameters, forward + backward over 100 moons:")
    ratio = compare(X, y, args.repeats, "gc on")
    say("The same with the cycle collector off (per-operation cost only):")
    gc.disable()
    try:
        ratio_nogc = compare(X, y, max(2, args.repeats // 2), "gc off")
    finally:
        gc.enable()
    say("Deep graphs:")
    depth_limits()
    if args.train:
        for gc_on in (True, False):
            state = "on" if gc_on else "off"
            say(f"Training micrograd's demo with course.nn (cycle collector {state}):")
            train(X, y, gc_on)
    say(f"RESULT ratio course/micrograd (best of {args.repeats}): {ratio:.3f} "
        f"(cycle collector off: {ratio_nogc:.3f}); below 1 means course.engine is faster")


if __name__ == "__main__":
    main()
