"""Notebook 03's checks on a small engine written here (tests/checks/engine_solution.py), no notebook.

* the correct engine passes every visible and hidden check, live and replayed on its
  recorded answers (so no check touches a student object outside ask);
* a stubbed exercise fails each check that uses it with "not written yet" (its own
  check) or "finish X first" (a check that builds on it);
* every planted mistake fails its check with the hint that names it;
* the expected numbers the checks use agree with torch float64 and central differences.
"""
from __future__ import annotations

import functools
import random
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import torch

from course.checks import answers, value_engine as ve, value_engine_graph as vg
from course.checks.answers import CheckFailed
from course.numeric import central_difference
from course_hidden import value_engine as hidden

from checks.engine_mistakes import (DUPLICATING_TOPO, EQUALITY_TOPO, HASHED_TOPO, MICROGRAD_BACKWARD, PREORDER_TOPO,
                                    RECURSIVE_BACKWARD, RECURSIVE_TOPO, ZERO_ALL_BACKWARD)


SOURCE = (Path(__file__).parent / "engine_solution.py").read_text(encoding="utf-8")
STUB = 'raise NotImplementedError("Not written yet: replace this line with your code.")'


def engine(source: str = SOURCE) -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "engine"}
    exec(compile(source, "<engine>", "exec"), ns)
    return ns


def planted(old: str, new: str) -> str:
    assert SOURCE.count(old) == 1, f"{old!r} is not once in the solution"
    return SOURCE.replace(old, new)


def stubbed(func: str) -> str:
    """The solution with the body of ``def func(`` replaced by the released stub."""
    lines = SOURCE.split("\n")
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(f"def {func}("))
    indent = len(lines[start]) - len(lines[start].lstrip()) + 4
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) >= indent):
        end += 1
    return "\n".join(lines[:start + 1] + [" " * indent + STUB, ""] + lines[end:])


SOLUTION = engine()
# (check, the student's names it takes)
V = ("Value",)
VT = ("Value", "topological_order")
VN = ("Value", "Neuron")
VMT = ("Value", "MLP", "train_step")
VISIBLE = [
    (ve.check_add_value, V), (ve.check_add_records_inputs, V), (ve.check_add_number, V),
    (ve.check_add_local_backward, V), (ve.check_mul_value_and_inputs, V), (ve.check_mul_local_backward, V),
    (ve.check_reuse_add, V), (ve.check_reuse_mul, V), (ve.check_pow_value_and_grad, V),
    (ve.check_pow_numpy_exponent, V), (ve.check_pow_negative_base, V), (ve.check_neg_and_sub, V),
    (ve.check_div, V), (ve.check_div_by_zero, V), (ve.check_radd_rmul, V), (ve.check_rsub_rtruediv, V),
    (ve.check_sum_of_values, V), (ve.check_tanh_value_and_grad, V), (ve.check_tanh_no_overflow, V),
    (ve.check_exp_value_and_grad, V), (ve.check_relu_value_and_grad, V),
    (vg.check_topological_order_is_valid, VT), (vg.check_topological_order_deep_chain, VT),
    (vg.check_topological_order_unhashable_values, VT), (vg.check_backward_seed, V),
    (vg.check_backward_topological, V), (vg.check_backward_twice_accumulates_on_leaves, V),
    (vg.check_engine_matches_torch, V), (vg.check_engine_matches_torch_shared, V), (vg.check_neuron_output, VN), (vg.check_neuron_gradients_reach_weights, VN),
    (vg.check_train_step_moves_against_the_gradient, VMT), (vg.check_train_step_zeroes_gradients, VMT),
]
HIDDEN = [(getattr(hidden, name), args) for name, args in [
    ("check_add_value_random", V), ("check_add_local_backward_random", V), ("check_mul_random", V),
    ("check_reuse_add_random", V), ("check_reuse_mul_random", V), ("check_pow_random", V),
    ("check_pow_negative_base_random", V), ("check_neg_and_sub_random", V), ("check_div_random", V),
    ("check_div_by_zero_random", V), ("check_reflected_random", V), ("check_sum_random", V),
    ("check_tanh_random", V), ("check_tanh_large_random", V), ("check_exp_random", V), ("check_relu_random", V),
    ("check_topological_order_random", VT), ("check_deep_chain_random", VT), ("check_unhashable_random", VT),
    ("check_backward_seed_random", V), ("check_backward_topological_random", V), ("check_backward_twice_random", V),
    ("check_engine_matches_torch_random", V), ("check_neuron_output_random", VN),
    ("check_neuron_gradients_random", VN), ("check_train_step_random", VMT), ("check_zero_grad_random", VMT),
]]
ALL = VISIBLE + HIDDEN


def run(check_fn: Callable, args: tuple[str, ...], ns: dict[str, Any]) -> None:
    check_fn(*[ns[a] for a in args])


def failure(check_fn: Callable, args: tuple[str, ...], ns: dict[str, Any]) -> str:
    with pytest.raises(CheckFailed) as exc:
        run(check_fn, args, ns)
    return str(exc.value)


def test_every_public_check_of_the_modules_is_tested():
    names = {f.__name__ for f, _ in ALL} | {"check_training_accuracy"}  # tested below, on trained weights
    for module in (ve, vg, hidden):
        public = {n for n in dir(module) if n.startswith("check_") and getattr(getattr(module, n), "__is_check__", 0)}
        assert public <= names, f"untested checks in {module.__name__}: {public - names}"


@pytest.mark.parametrize("check_fn,args", ALL, ids=[f.__name__ for f, _ in ALL])
def test_the_solution_passes_live_and_replayed(check_fn, args, tmp_path, monkeypatch):
    log = tmp_path / "answers.jsonl"
    monkeypatch.setenv(answers.ENV, str(log))
    run(check_fn, args, SOLUTION)
    records = list(answers.read_records(log.read_text()))
    module = "course.checks.value_engine" if check_fn.__module__ == vg.__name__ else check_fn.__module__
    cell = f"from {module} import {check_fn.__name__}\n{check_fn.__name__}({', '.join(args)})\n"
    result = answers.replay_cell(cell, records)
    assert result.passed and not result.problems, (result.message, result.problems)


# ---------------------------------------------------------------------------
# Stubs

STUBS = [
    # (exercise stubbed, check, message expected)
    ("__add__", ve.check_add_value, V, "not written yet"),
    ("__add__", ve.check_reuse_add, V, "finish __add__ first"),
    ("__add__", ve.check_neg_and_sub, V, "finish __add__ first"),
    ("__mul__", ve.check_mul_local_backward, V, "not written yet"),
    ("__mul__", ve.check_reuse_mul, V, "finish __mul__ first"),
    ("__pow__", ve.check_pow_value_and_grad, V, "not written yet"),
    ("__pow__", ve.check_div, V, "finish __pow__ first"),
    ("__truediv__", ve.check_div_by_zero, V, "not written yet"),
    ("__radd__", ve.check_sum_of_values, V, "not written yet"),
    ("__rsub__", ve.check_rsub_rtruediv, V, "not written yet"),
    ("tanh", ve.check_tanh_value_and_grad, V, "not written yet"),
    ("tanh", ve.check_tanh_no_overflow, V, "finish tanh first"),
    ("exp", ve.check_exp_value_and_grad, V, "not written yet"),
    ("relu", ve.check_relu_value_and_grad, V, "not written yet"),
    ("relu", vg.check_neuron_output, VN, "finish relu first"),
    ("topological_order", vg.check_topological_order_is_valid, VT, "not written yet"),
    ("topological_order", vg.check_backward_seed, V, "finish backward first"),
    ("backward", vg.check_backward_twice_accumulates_on_leaves, V, "finish backward first"),
    ("backward", vg.check_engine_matches_torch, V, "finish backward first"),
    ("exp", vg.check_engine_matches_torch_shared, V, "finish exp first"),
    ("__call__", vg.check_neuron_output, VN, "not written yet"),
    ("__call__", vg.check_train_step_moves_against_the_gradient, VMT, "finish Neuron first"),
    ("train_step", vg.check_train_step_zeroes_gradients, VMT, "not written yet"),
    ("__add__", hidden.check_add_value_random, V, "not written yet"),
    ("backward", hidden.check_engine_matches_torch_random, V, "finish backward first"),
]


@pytest.mark.parametrize("func,check_fn,args,text", STUBS, ids=[f"{s[0]}-{s[1].__name__}" for s in STUBS])
def test_a_stubbed_exercise_fails_with_not_written_yet(func, check_fn, args, text):
    assert text in failure(check_fn, args, engine(stubbed(func)))


OWN_EXERCISE = [  # (a word in the check's name, the exercise it checks), first match wins
    ("reuse_add", "__add__"), ("reuse_mul", "__mul__"), ("add", "__add__"), ("mul", "__mul__"),
    ("pow", "__pow__"), ("neg", "__neg__"), ("rsub", "__rsub__"), ("reflected", "__rsub__"), ("div", "__truediv__"),
    ("radd", "__radd__"), ("sum", "__radd__"), ("tanh", "tanh"), ("exp", "exp"), ("relu", "relu"),
    ("backward", "backward"), ("topological", "topological_order"), ("deep_chain", "topological_order"),
    ("unhashable", "topological_order"), ("torch", "backward"), ("neuron", "__call__"),
    ("train_step", "train_step"), ("zero_grad", "train_step"),
]


@pytest.mark.parametrize("check_fn,args", ALL, ids=[f.__name__ for f, _ in ALL])
def test_every_check_fails_on_the_stub_of_its_exercise_saying_what_to_do(check_fn, args):
    func = next(f for word, f in OWN_EXERCISE if word in check_fn.__name__)
    message = failure(check_fn, args, engine(stubbed(func)))
    assert "this exercise is not written yet" in message or f"finish {func} first" in message or (
        func == "__call__" and "finish Neuron first" in message), message


# ---------------------------------------------------------------------------
# Planted mistakes

ADD_ACC = "        self.grad += out.grad\n        other.grad += out.grad"
MUL_ACC = "        self.grad += other.data * out.grad\n        other.grad += self.data * out.grad"
def replaced_function(func: str, new: str) -> str:
    """The solution with ``def func`` (a top-level function) replaced by ``new``."""
    return stubbed(func).replace(f"def {func}(" + SOURCE.split(f"def {func}(")[1].split("\n")[0] + "\n    " + STUB,
                                 new.strip("\n"))


MISTAKES = [
    # (why, engine source, check, its names, tag)
    ("add result without children", planted('(self, other), "+"', ""), ve.check_add_records_inputs, V, "no-parents"),
    ("add records its inputs swapped", planted('(self, other), "+"', '(other, self), "+"'),
     ve.check_add_records_inputs, V, "inputs-not-kept"),
    ("add labelled wrongly", planted('(self, other), "+"', '(self, other), "add"'), ve.check_add_records_inputs, V,
     "op-label"),
    ("a number not wrapped", planted("other = other if isinstance(other, Value) else Value(other)\n    out = Value("
                                     "self.data + other.data", "out = Value(self.data + other.data"),
     ve.check_add_number, V, "number-not-wrapped"),
    ("add ignores out.grad", planted(ADD_ACC, ADD_ACC.replace("out.grad", "1.0")), ve.check_add_local_backward, V,
     "chain-rule-missing"),
    ("add feeds one input only", planted(ADD_ACC, "        self.grad += out.grad"), ve.check_add_local_backward, V,
     "add-one-input"),
    ("mul without children", planted('(self, other), "*"', ""), ve.check_mul_value_and_inputs, V, "no-parents"),
    ("mul does not swap", planted(MUL_ACC, MUL_ACC.replace("other.data *", "X").replace("self.data *", "other.data *")
                                  .replace("X", "self.data *")), ve.check_mul_local_backward, V, "mul-no-swap"),
    ("mul ignores out.grad", planted(MUL_ACC, MUL_ACC.replace(" * out.grad", "")), ve.check_mul_local_backward, V,
     "chain-rule-missing"),
    ("= in add's backward", planted(ADD_ACC, ADD_ACC.replace("+=", "=")), ve.check_reuse_add, V, "grad-overwritten"),
    ("= in mul's backward", planted(MUL_ACC, MUL_ACC.replace("+=", "=")), ve.check_reuse_mul, V, "grad-overwritten"),
    ("grad += a Value", planted(MUL_ACC, MUL_ACC.replace("other.data * out.grad", "other * out.grad")),
     ve.check_mul_local_backward, V, "grad-not-number"),
    ("power rule without k", planted("k * self.data ** (k - 1) * out.grad", "self.data ** (k - 1) * out.grad"),
     ve.check_pow_value_and_grad, V, "power-rule"),
    ("power rule exponent k", planted("k * self.data ** (k - 1) * out.grad", "k * self.data ** k * out.grad"),
     ve.check_pow_value_and_grad, V, "power-rule"),
    ("= in pow's backward", planted("self.grad += k *", "self.grad = k *"), ve.check_pow_value_and_grad, V,
     "grad-overwritten"),
    ("pow ignores out.grad", planted("k * self.data ** (k - 1) * out.grad", "k * self.data ** (k - 1)"),
     ve.check_pow_value_and_grad, V, "chain-rule-missing"),
    ("numpy exponent rejected", planted("    k = float(k)\n", "    assert isinstance(k, (int, float))\n    k = float(k)\n"),
     ve.check_pow_numpy_exponent, V, "numpy-exponent"),
    ("complex power", planted("    if self.data < 0 and not k.is_integer():\n", "    if False:\n"),
     ve.check_pow_negative_base, V, "complex-power"),
    ("neg multiplies by 1", planted("return self * -1", "return self * 1"), ve.check_neg_and_sub, V, "neg-sign"),
    ("sub adds", planted("return self + (-other)", "return self + other"), ve.check_neg_and_sub, V, "sub-sign"),
    ("sub from data", planted("return self + (-other)", "return Value(self.data - other.data)"),
     ve.check_neg_and_sub, V, "no-parents"),
    ("div gradient sign", planted("return self * other ** -1", "return self * (other ** -1 if False else "
                                  "_flip(other))\n\n\ndef _flip(v):\n    out = Value(1 / v.data, (v,), 'inv')\n\n"
                                  "    def _backward():\n        v.grad += out.grad / v.data ** 2\n\n"
                                  "    out._backward = _backward\n    return out"), ve.check_div, V, "div-sign"),
    ("division by zero gives inf", planted("return self * other ** -1", "return self * (other ** -1 if other.data "
                                           "else Value(math.inf))"), ve.check_div_by_zero, V,
     "division-by-zero-policy"),
    ("no reflected add", planted("return self + other\n\n\ndef __rmul__", "return NotImplemented\n\n\ndef __rmul__"),
     ve.check_radd_rmul, V, "reflected-missing"),
    ("no reflected add in sum", planted("return self + other\n\n\ndef __rmul__",
                                        "return NotImplemented\n\n\ndef __rmul__"), ve.check_sum_of_values, V,
     "reflected-missing"),
    ("radd recurses", planted("return self + other\n\n\ndef __rmul__", "return other + self\n\n\ndef __rmul__"),
     ve.check_radd_rmul, V, "reflected-recursion"),
    ("rsub recurses", planted("return (-self) + other", "return other - self"), ve.check_rsub_rtruediv, V,
     "reflected-recursion"),
    ("rsub as self - other", planted("return (-self) + other", "return self - other"), ve.check_rsub_rtruediv, V,
     "reflected-order"),
    ("rtruediv as self / other", planted("return self ** -1 * other", "return self / other"),
     ve.check_rsub_rtruediv, V, "reflected-order"),
    ("tanh overflows", planted("t = math.tanh(self.data)", "t = (math.exp(2 * self.data) - 1) / "
                                                           "(math.exp(2 * self.data) + 1)"),
     ve.check_tanh_no_overflow, V, "unstable-tanh"),
    ("tanh' = 1 - x^2", planted("(1.0 - t * t)", "(1.0 - self.data ** 2)"), ve.check_tanh_value_and_grad, V,
     "tanh-derivative"),
    ("tanh' = 1 - t", planted("(1.0 - t * t)", "(1.0 - t)"), ve.check_tanh_value_and_grad, V, "tanh-derivative"),
    ("tanh' sign", planted("(1.0 - t * t)", "(t * t - 1.0)"), ve.check_tanh_value_and_grad, V, "tanh-derivative"),
    ("= in tanh's backward", planted("self.grad += (1.0 - t * t)", "self.grad = (1.0 - t * t)"),
     ve.check_tanh_value_and_grad, V, "grad-overwritten"),
    ("exp' = x", planted("self.grad += out.data * out.grad", "self.grad += self.data * out.grad"),
     ve.check_exp_value_and_grad, V, "exp-derivative"),
    ("= in exp's backward", planted("self.grad += out.data * out.grad", "self.grad = out.data * out.grad"),
     ve.check_exp_value_and_grad, V, "grad-overwritten"),
    ("exp ignores out.grad", planted("self.grad += out.data * out.grad", "self.grad += out.data"),
     ve.check_exp_value_and_grad, V, "chain-rule-missing"),
    ("relu'(0) = 1", planted("(1.0 if self.data > 0 else 0.0)", "(1.0 if self.data >= 0 else 0.0)"),
     ve.check_relu_value_and_grad, V, "relu-kink"),
    ("relu passes everything", planted("(1.0 if self.data > 0 else 0.0)", "1.0"), ve.check_relu_value_and_grad, V,
     "relu-negative"),
    ("relu' = out.data", planted("(1.0 if self.data > 0 else 0.0)", "out.data"), ve.check_relu_value_and_grad, V,
     "relu-derivative"),
    ("= in relu's backward", planted("self.grad += (1.0 if", "self.grad = (1.0 if"), ve.check_relu_value_and_grad,
     V, "grad-overwritten"),
    ("topological order without visited", replaced_function("topological_order", DUPLICATING_TOPO),
     vg.check_topological_order_is_valid, VT, "topo-duplicates"),
    ("pre-order instead of post-order", replaced_function("topological_order", PREORDER_TOPO),
     vg.check_topological_order_is_valid, VT, "topo-order"),
    ("recursive topological sort", replaced_function("topological_order", RECURSIVE_TOPO),
     vg.check_topological_order_deep_chain, VT, "recursive-topo-sort"),
    ("visited set of nodes", replaced_function("topological_order", HASHED_TOPO),
     vg.check_topological_order_unhashable_values, VT, "visited-by-hash"),
    ("visited list by ==", replaced_function("topological_order", EQUALITY_TOPO),
     vg.check_topological_order_unhashable_values, VT, "visited-by-hash"),
    ("seed never set", planted("    self.grad = 1.0\n    for node in reversed", "    for node in reversed"),
     vg.check_backward_seed, V, "seed-not-set"),
    ("recursive backward", replaced_function("backward", RECURSIVE_BACKWARD), vg.check_backward_topological, V,
     "no-topological-order"),
    ("seed +=, intermediates kept", replaced_function("backward", MICROGRAD_BACKWARD.format(seed="+=")),
     vg.check_backward_twice_accumulates_on_leaves, V, "seed-accumulates"),
    ("intermediates kept", replaced_function("backward", MICROGRAD_BACKWARD.format(seed="=")),
     vg.check_backward_twice_accumulates_on_leaves, V, "stale-intermediate-grad"),
    ("backward zeroes leaves", replaced_function("backward", ZERO_ALL_BACKWARD),
     vg.check_backward_twice_accumulates_on_leaves, V, "backward-zeroes-leaves"),
    ("neuron ignores nonlin", planted("return act.relu() if self.nonlin else act", "return act"),
     vg.check_neuron_output, VN, "neuron-no-relu"),
    ("neuron always relu", planted("return act.relu() if self.nonlin else act", "return act.relu()"),
     vg.check_neuron_output, VN, "neuron-relu-always"),
    ("neuron without bias", planted("zip(self.w, x)), self.b)", "zip(self.w, x)), 0.0)"), vg.check_neuron_output,
     VN, "neuron-bias-missing"),
    ("neuron from .data", planted("act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)",
                                  "act = Value(sum(wi.data * float(getattr(xi, 'data', xi)) "
                                  "for wi, xi in zip(self.w, x)) + self.b.data)"),
     vg.check_neuron_gradients_reach_weights, VN, "neuron-detached"),
    ("gradient ascent", planted("p.data -= lr * p.grad", "p.data += lr * p.grad"),
     vg.check_train_step_moves_against_the_gradient, VMT, "ascent-not-descent"),
    ("step without lr", planted("p.data -= lr * p.grad", "p.data -= p.grad"),
     vg.check_train_step_moves_against_the_gradient, VMT, "lr-missing"),
    ("no step", planted("p.data -= lr * p.grad", "pass"), vg.check_train_step_moves_against_the_gradient, VMT,
     "no-step"),
    ("loss after the step", planted("    return loss, accuracy\n", "    return loss_fn(model, X, y)\n"),
     vg.check_train_step_moves_against_the_gradient, VMT, "loss-after-step"),
    ("zero_grad forgotten", planted("    model.zero_grad()\n", ""), vg.check_train_step_zeroes_gradients, VMT,
     "forgot-zero-grad"),
    # the hidden checks name the same mistakes, and hard-coding
    ("hard-coded add", planted("out = Value(self.data + other.data,", "out = Value(-1.5,"),
     hidden.check_add_value_random, V, "hard-coded"),
    ("= in tanh's backward (hidden)", planted("self.grad += (1.0 - t * t)", "self.grad = (1.0 - t * t)"),
     hidden.check_tanh_random, V, "grad-overwritten"),
    ("rsub as self - other (hidden)", planted("return (-self) + other", "return self - other"),
     hidden.check_reflected_random, V, "reflected-order"),
    ("zero_grad forgotten (hidden)", planted("    model.zero_grad()\n", ""), hidden.check_zero_grad_random, VMT,
     "forgot-zero-grad"),
]


@pytest.mark.parametrize("why,source,check_fn,args,tag", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_planted_mistake_fails_with_the_hint_that_names_it(why, source, check_fn, args, tag):
    message = failure(check_fn, args, engine(source))
    assert f"Misconception [{tag}]" in message, message
    assert message.startswith("Check failed:"), message


def test_a_recursive_sort_passes_small_graphs():
    ns = engine(replaced_function("topological_order", RECURSIVE_TOPO))
    run(vg.check_topological_order_is_valid, VT, ns)


def test_assignment_in_add_keeps_the_local_add_checks_green():
    """One idea per check: with = instead of +=, a + b of two inputs is right; only reuse is wrong."""
    ns = engine(planted(ADD_ACC, ADD_ACC.replace("+=", "=")))
    for check_fn in (ve.check_add_value, ve.check_add_records_inputs, ve.check_add_local_backward):
        run(check_fn, V, ns)
    assert "Misconception [grad-overwritten]" in failure(vg.check_backward_topological, V, ns)


def test_forgotten_zero_grad_still_moves_the_parameters_right_in_one_step():
    run(vg.check_train_step_moves_against_the_gradient, VMT, engine(planted("    model.zero_grad()\n", "")))


# ---------------------------------------------------------------------------
# The training-accuracy check reads parameters and computes the accuracy itself


@functools.lru_cache(maxsize=1)
def torch_trained(shape: tuple[int, ...] = (16, 16)) -> list[np.ndarray]:
    """Weights of an MLP(2, [16, 16, 1]) trained here with torch until it separates the moons."""
    X, y = vg.moons_subset(range(100))
    torch.manual_seed(0)
    torch.set_num_threads(1)  # a tiny network: threads only add overhead on a loaded machine
    sizes = [2, *shape, 1]
    layers = [torch.nn.Linear(a, b).double() for a, b in zip(sizes, sizes[1:])]
    opt = torch.optim.Adam([p for layer in layers for p in layer.parameters()], lr=0.02)
    Xt, yt = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    for _ in range(300):
        h = Xt
        for i, layer in enumerate(layers):
            h = layer(h)
            h = torch.relu(h) if i < len(layers) - 1 else h
        loss = torch.relu(1 - yt * h[:, 0]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [(layer.weight.detach().numpy(), layer.bias.detach().numpy()) for layer in layers]


def model_with(ns: dict[str, Any], weights: list) -> Any:
    model = ns["MLP"](2, [16, 16, 1], rng=random.Random(0))
    for layer, (W, b) in zip(model.layers, weights):
        for n, row, bias in zip(layer.neurons, W, b):
            for wi, v in zip(n.w, row):
                wi.data = float(v)
            n.b.data = float(bias)
    return model


def test_training_accuracy_passes_a_trained_model_and_fails_an_untrained_one():
    weights = torch_trained()
    vg.check_training_accuracy(model_with(SOLUTION, weights))
    message = str(pytest.raises(CheckFailed, vg.check_training_accuracy, SOLUTION["MLP"](2, [16, 16, 1],
                                                                                        rng=random.Random(1))).value)
    assert "Misconception [not-trained]" in message and "expected:  1" in message


def test_training_accuracy_rejects_parameters_the_model_does_not_use():
    class Liar:
        """Reports trained parameters through .layers but predicts with an untrained network."""

        def __init__(self, shown, used):
            self.layers, self._used = shown.layers, used

        def __call__(self, x):
            return self._used(x)

    liar = Liar(model_with(SOLUTION, torch_trained()), SOLUTION["MLP"](2, [16, 16, 1], rng=random.Random(1)))
    message = str(pytest.raises(CheckFailed, vg.check_training_accuracy, liar).value)
    assert "not the ones model(x) uses" in message


# ---------------------------------------------------------------------------
# The numbers the checks expect, against torch float64 and central differences


def torch_grads(f: Callable, xs: list[float]) -> np.ndarray:
    return vg.torch_value_and_grads(f, xs)


@pytest.mark.parametrize("op,xs,expected", [
    (lambda a, b: a + b, [2.0, -3.5], (-1.5, 1.0, 1.0, 1.0)),
    (lambda a, b: a * b, [2.0, -3.5], (-7.0, 1.0, -3.5, 2.0)),
    (lambda a: a + a, [3.0], (6.0, 1.0, 2.0)),
    (lambda a: a * a, [3.0], (9.0, 1.0, 6.0)),
    (lambda a: -a, [2.0], (-2.0, 1.0, -1.0)),
    (lambda a, b: a - b, [2.0, -3.5], (5.5, 1.0, 1.0, -1.0)),
    (lambda a, b: a / b, [3.0, -2.0], (-1.5, 1.0, -0.5, -0.75)),
    (lambda v: 2 - v, [4.0], (-2.0, 1.0, -1.0)),
    (lambda v: 2 / v, [4.0], (0.5, 1.0, -0.125)),
    (lambda v: 2 + v, [3.5], (5.5, 1.0, 1.0)),
    (lambda v: 2 * v, [3.5], (7.0, 1.0, 2.0)),
    (lambda a: a * 2.0 + 1.0, [3.0], (7.0, 1.0, 2.0)),
    (lambda a: (a + a) + (a + a), [1.0], (4.0, 1.0, 4.0)),
    (lambda a: a.tanh(), [400.0], (1.0, 1.0, 0.0)),
])
def test_expected_numbers_agree_with_torch_and_central_differences(op, xs, expected):
    got = torch_grads(op, xs)
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
    for i in range(len(xs)):
        def along(t, i=i):
            return float(torch_grads(op, xs[:i] + [t] + xs[i + 1:])[0])
        assert central_difference(along, xs[i], 1e-5) == pytest.approx(expected[2 + i], abs=1e-6)


@pytest.mark.parametrize("name", ["pow", "tanh", "exp", "relu"])
def test_the_rule_table_the_checks_use_agrees_with_torch(name):
    f = {"pow": lambda a: a ** 3, "tanh": lambda a: a.tanh(), "exp": lambda a: a.exp(), "relu": lambda a: a.relu()}
    for x in [-1.3, 0.4, 2.2]:
        rule = ve.RULES[name]
        params = {"k": 3.0} if name == "pow" else {}
        y = rule.value(x, *params.values())
        t = torch_grads(f[name], [x])
        assert y == pytest.approx(t[0], rel=1e-15) and rule.local((x,), y, **params)[0] == pytest.approx(t[2], rel=1e-14)


def test_the_torch_loss_of_the_checks_matches_the_engine_loss():
    """vg.torch_loss (the checks' reference) equals the solution engine's loss_fn and its backward()."""
    model = SOLUTION["MLP"](2, [4, 4, 1], rng=random.Random(5))
    X, y = vg.moons_subset(range(12))
    loss, _ = SOLUTION["loss_fn"](model, X, y)
    model.zero_grad()
    loss.backward()
    params, shape = vg.unpack("layout", [[(list(map(float, (w.data for w in n.w))), n.b.data, n.nonlin)
                                          for n in layer.neurons] for layer in model.layers])
    ref, grad = vg.torch_loss(params, shape, X, y)
    assert ref == pytest.approx(loss.data, rel=1e-13)
    np.testing.assert_allclose(grad, [p.grad for p in model.parameters()], rtol=1e-10, atol=1e-14)


def test_a_train_step_that_returns_only_the_loss_is_told_what_to_return():
    message = failure(vg.check_train_step_moves_against_the_gradient, VMT,
                      engine(planted("    return loss, accuracy\n", "    return loss\n")))
    assert "not (loss, accuracy)" in message, message
