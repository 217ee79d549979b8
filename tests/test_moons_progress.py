"""course.moons.Progress: the progress line of notebook 03's training loop.

What is proved (with a fake clock): a line is printed at step 0, every N
steps and at the last step; it shows the figures given, the time so far and
an estimate of the total from the mean time per step; bad arguments fail clearly.
"""
from __future__ import annotations

import pytest

from course.moons import Progress


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_a_line_every_n_steps_and_at_the_last_with_elapsed_time_and_an_estimate_of_the_total():
    clock, lines = Clock(), []
    p = Progress(25, every=10, out=lines.append, clock=clock)
    for k in range(25):
        clock.t += 0.5  # each step takes half a second
        p.update(k, loss=1.0 / (k + 1), accuracy=0.5 + k / 50)
    assert len(lines) == 4, "steps 0, 10, 20 and the last (24)"
    assert lines[0] == "step  1/25  loss 1.0000  accuracy 50%  |  0.5 s so far, about 12 s in all (12 s to go)"
    assert lines[1].startswith("step 11/25  loss 0.0909  accuracy 70%  |  5.5 s so far, about 12 s in all")
    assert lines[-1] == "step 25/25  loss 0.0400  accuracy 98%  |  12.5 s so far"


def test_the_estimate_follows_the_mean_time_per_step():
    clock = Clock()
    p = Progress(100, out=lambda s: None, clock=clock)
    clock.t += 3.0
    assert p.line(9).endswith("3.0 s so far, about 30 s in all (27 s to go)")


def test_bad_arguments_fail_clearly():
    with pytest.raises(ValueError, match="total >= 1"):
        Progress(0)
