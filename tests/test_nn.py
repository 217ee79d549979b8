"""course.nn on the reference engine: micrograd's API and numbers, torch's gradients.

The reference figures are those of micrograd's demo (shared/notes/engine-pitfalls.md):
make_moons(n_samples=100, noise=0.1), MLP(2, [16, 16, 1]) with 337 parameters,
SVM max-margin loss with L2 alpha 1e-4, learning rate 1.0 - 0.9*k/100:
step 0 loss 0.8958 accuracy 50%, 100% accuracy by step 40, step 99 loss about 0.011.
"""
from __future__ import annotations

import gc
import random

import micrograd.engine as mg
import micrograd.nn as mgnn
import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons

from course.engine import Value
from course.nn import MLP, Layer, Neuron, accuracy, svm_loss


@pytest.fixture(scope="module")
def moons():
    """micrograd's demo data: np.random.seed(1337) then make_moons(100, noise=0.1)."""
    X, y = make_moons(n_samples=100, noise=0.1, random_state=1337)
    return X, y * 2 - 1


def micrograd_model(nin, nouts, seed):
    """micrograd's MLP as its demo makes it: random.seed(seed) first."""
    state = random.getstate()
    random.seed(seed)
    try:
        return mgnn.MLP(nin, nouts)
    finally:
        random.setstate(state)


# ------------------------------------------------------------ structure --

def test_mlp_2_16_16_1_has_337_parameters():
    model = MLP(2, [16, 16, 1], seed=0)
    assert len(model.parameters()) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1 == 337
    assert len({id(p) for p in model.parameters()}) == 337


def test_hidden_layers_are_relu_and_the_last_is_linear():
    model = MLP(2, [3, 3, 1], seed=0)
    assert [n.nonlin for layer in model.layers for n in layer.neurons] == [True] * 6 + [False]
    assert repr(model).startswith("MLP of [Layer of [ReLUNeuron(2)")
    assert len(Layer(4, 5, seed=0).parameters()) == 25 and len(Neuron(4, seed=0).parameters()) == 5


def test_one_output_is_a_value_and_several_are_a_list():
    x = [0.5, -1.0]
    assert isinstance(MLP(2, [4, 1], seed=0)(x), Value)
    out = MLP(2, [4, 3], seed=0)(x)
    assert isinstance(out, list) and len(out) == 3


def test_inputs_may_be_floats_numpy_scalars_or_values():
    model = MLP(2, [4, 4, 1], seed=3)
    a = model([0.5, -1.0]).data
    b = model(np.array([0.5, -1.0])).data
    c = model([Value(0.5), Value(-1.0)]).data
    assert a == b == c


def test_wrong_number_of_inputs_is_a_clear_error():
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        MLP(2, [4, 1], seed=0)([1.0, 2.0, 3.0])


# --------------------------------------------------------------- seeding --

def test_same_seed_gives_the_same_weights_and_another_seed_does_not():
    w = lambda m: [p.data for p in m.parameters()]  # noqa: E731
    assert w(MLP(2, [4, 1], seed=5)) == w(MLP(2, [4, 1], seed=5))
    assert w(MLP(2, [4, 1], seed=5)) != w(MLP(2, [4, 1], seed=6))
    assert w(MLP(2, [4, 1], rng=random.Random(5))) == w(MLP(2, [4, 1], seed=5))


def test_weights_are_uniform_in_minus_one_one_and_biases_start_at_zero():
    model = MLP(2, [16, 16, 1], seed=1)
    ws = [w.data for layer in model.layers for n in layer.neurons for w in n.w]
    bs = [n.b.data for layer in model.layers for n in layer.neurons]
    assert all(-1 <= w <= 1 for w in ws) and min(ws) < -0.9 and max(ws) > 0.9
    assert bs == [0.0] * 33


def test_seed_and_rng_together_are_refused():
    with pytest.raises(TypeError, match="either seed or rng"):
        MLP(2, [1], seed=1, rng=random.Random(1))


def test_initial_weights_equal_micrograds_after_random_seed():
    ours = MLP(2, [16, 16, 1], seed=1337)
    theirs = micrograd_model(2, [16, 16, 1], 1337)
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]


# ------------------------------------------------------------- gradients --

def torch_svm_loss(model, X, y, alpha=1e-4):
    """The same network and loss in torch float64, from the course model's weights."""
    params = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True)
              for p in model.parameters()]
    it = iter(params)
    layers = []
    for layer in model.layers:
        W, b = [], []
        for n in layer.neurons:
            W.append(torch.stack([next(it) for _ in n.w]))
            b.append(next(it))
        layers.append((torch.stack(W), torch.stack(b), layer.neurons[0].nonlin))
    h = torch.tensor(np.asarray(X), dtype=torch.float64)
    for W, b, nonlin in layers:
        h = h @ W.T + b
        h = torch.relu(h) if nonlin else h
    scores = h[:, 0]
    yt = torch.tensor(np.asarray(y), dtype=torch.float64)
    loss = torch.relu(1 - yt * scores).mean() + alpha * sum(p * p for p in params)
    loss.backward()
    return float(loss.detach()), [float(p.grad) for p in params]


def test_mlp_loss_and_all_337_gradients_match_torch_float64(moons):
    X, y = moons
    model = MLP(2, [16, 16, 1], seed=7)
    loss, _ = svm_loss(model, X, y)
    loss.backward()
    want_loss, want_grads = torch_svm_loss(model, X, y)
    assert loss.data == pytest.approx(want_loss, rel=1e-13)
    grads = [p.grad for p in model.parameters()]
    assert np.allclose(grads, want_grads, rtol=1e-10, atol=1e-14)
    assert sum(g != 0 for g in grads) > 300, "a test on all-zero gradients would prove nothing"


def test_mlp_loss_and_gradients_match_micrograd_on_the_demo(moons):
    X, y = moons
    ours = MLP(2, [16, 16, 1], seed=1337)
    theirs = micrograd_model(2, [16, 16, 1], 1337)
    loss, _ = svm_loss(ours, X, y)
    loss.backward()
    # micrograd's demo loss, word for word
    inputs = [list(map(mg.Value, xrow)) for xrow in X.tolist()]
    scores = list(map(theirs, inputs))
    losses = [(1 + -yi * si).relu() for yi, si in zip(y.tolist(), scores)]
    mloss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in theirs.parameters())
    mloss.backward()
    assert loss.data == mloss.data
    assert [p.grad for p in ours.parameters()] == pytest.approx(
        [p.grad for p in theirs.parameters()], rel=1e-12, abs=1e-15)


# ---------------------------------------------------------------- training --

def sgd_step(model, X, y, k):
    loss, scores = svm_loss(model, X, y)
    model.zero_grad()
    loss.backward()
    lr = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss.data, accuracy(scores, y)


def test_zero_grad_resets_every_parameter():
    model = MLP(2, [4, 1], seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_forgetting_zero_grad_doubles_the_gradients():
    model = MLP(2, [4, 4, 1], seed=2)
    out = model([1.0, 2.0])
    out.backward()
    once = [p.grad for p in model.parameters()]
    model([1.0, 2.0]).backward()
    assert [p.grad for p in model.parameters()] == [2 * g for g in once]


def test_first_two_steps_reproduce_micrograd_demo_figures(moons):
    X, y = moons
    model = MLP(2, [16, 16, 1], seed=1337)
    loss0, acc0 = sgd_step(model, X, y, 0)
    assert round(loss0, 4) == 0.8958 and acc0 == 0.5
    loss1, acc1 = sgd_step(model, X, y, 1)  # the demo's learning rate 1.0 overshoots first
    assert round(loss1, 4) == 1.7236 and acc1 == 0.81


def test_training_100_steps_reaches_100_percent_accuracy_as_micrograds_demo(moons):
    X, y = moons
    model = MLP(2, [16, 16, 1], seed=1337)
    # course.engine's graphs hold no reference cycles, so reference counting frees
    # each step's graph and the cycle collector (most of a step's time) can rest
    was_on = gc.isenabled()
    gc.disable()
    try:
        history = [sgd_step(model, X, y, k) for k in range(100)]
    finally:
        if was_on:
            gc.enable()
    first_perfect = next(k for k, (_, acc) in enumerate(history) if acc == 1.0)
    assert first_perfect <= 40, f"first 100% at step {first_perfect}, the demo's is 40"
    loss, scores = svm_loss(model, X, y)
    assert accuracy(scores, y) == 1.0
    assert history[-1][1] == 1.0 and history[-1][0] == pytest.approx(0.011, abs=0.002)
