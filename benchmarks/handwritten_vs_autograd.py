"""One training step of notebook 05's network: the hand-written backward against torch autograd.

The same two-layer network (64 -> 32 -> ReLU -> 10, cross-entropy) on the same
batch of scikit-learn digits, float32, one thread, in one run:

* hand-written: forward, the loss, the backward pass of :mod:`course.layers` in plain
  tensor algebra (no graph is recorded), an SGD update in place;
* autograd: the same forward and loss on leaves with ``requires_grad``, ``backward()``,
  the same update under ``torch.no_grad()``, then clearing ``.grad``.

Before timing, both are checked to give the same gradients (float64). Each is
timed as the median of several repeats of a block of steps, alternating the two
so that drifts in machine load hit both. Prints the ratio hand-written /
autograd; the course's target is at most 1.5.

    ./run python benchmarks/handwritten_vs_autograd.py [--batch 64] [--repeats 15]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from sklearn.datasets import load_digits

from course import layers

TARGET = 1.5


def handwritten_step(x: torch.Tensor, y: torch.Tensor, p: layers.Params, lr: float) -> float:
    loss, grads = layers.loss_and_grads(x, y, p, layers.cross_entropy, layers.cross_entropy_backward)
    layers.sgd_step(p, grads, lr)
    return loss


def autograd_step(x: torch.Tensor, y: torch.Tensor, p: layers.Params, lr: float) -> float:
    loss = layers.cross_entropy(layers.forward(x, p)["out"], y)
    loss.backward()
    with torch.no_grad():
        for v in p.values():
            v.sub_(v.grad, alpha=lr)
            v.grad = None
    return loss


def same_gradients(x: torch.Tensor, y: torch.Tensor) -> None:
    """Both ways give the same gradients in float64, or the timing would mean nothing."""
    p = layers.init_params(64, 32, 10, generator=torch.Generator().manual_seed(1))
    mine = layers.network_backward(x.double(), y, p, layers.cross_entropy_backward)
    leaves = {k: v.clone().requires_grad_(True) for k, v in p.items()}
    layers.cross_entropy(layers.forward(x.double(), leaves)["out"], y).backward()
    for k, v in leaves.items():
        assert torch.allclose(mine[k], v.grad, rtol=1e-10, atol=1e-13), f"gradient of {k} differs"


def time_block(step, x, y, p, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step(x, y, p, 0.01)
    return (time.perf_counter() - start) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64, help="examples per step (default 64, the notebook's)")
    ap.add_argument("--repeats", type=int, default=15, help="timed blocks per method (median reported)")
    ap.add_argument("--steps", type=int, default=200, help="steps per timed block")
    args = ap.parse_args()

    torch.set_num_threads(1)
    digits = load_digits()
    x = torch.tensor(digits.data[: args.batch] / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target[: args.batch], dtype=torch.long)
    same_gradients(x, y)

    gen = torch.Generator().manual_seed(0)
    p_hand = layers.init_params(64, 32, 10, generator=gen, dtype=torch.float32)
    p_auto = {k: v.clone().requires_grad_(True) for k, v in p_hand.items()}
    for _ in range(50):  # warm up both
        handwritten_step(x, y, p_hand, 0.01)
        autograd_step(x, y, p_auto, 0.01)

    hand, auto = [], []
    for _ in range(args.repeats):
        hand.append(time_block(handwritten_step, x, y, p_hand, args.steps))
        auto.append(time_block(autograd_step, x, y, p_auto, args.steps))
    t_hand, t_auto = statistics.median(hand), statistics.median(auto)
    ratio = t_hand / t_auto
    print(f"one training step, batch {args.batch}, 64 -> 32 -> 10, float32, 1 thread; "
          f"median of {args.repeats} x {args.steps} steps")
    print(f"  hand-written backward: {t_hand * 1e6:8.1f} us")
    print(f"  torch autograd:        {t_auto * 1e6:8.1f} us")
    print(f"ratio hand-written / autograd = {ratio:.2f} (target <= {TARGET}: "
          f"{'met' if ratio <= TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
