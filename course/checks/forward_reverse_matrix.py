"""Reverse mode on arrays in notebook 04's checks (exercise 5): how the student's
``MatVec.backward`` and ``Tanh.backward`` are asked, alone and composed into layers, against
torch float64's vector-Jacobian products (never :mod:`course.matrix_ops`'s), and the hints
for their usual mistakes.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .answers import ask, fail
from .expect import array, expect_close, missing_return
from .forward_reverse_common import TOL, ask_explained
from .messages import misconception


def torch_matvec_vjp(W: np.ndarray, x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dL/dW, dL/dx) of y = W x for dL/dy = g, by torch float64."""
    import torch

    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    dW, dx = torch.autograd.grad(Wt @ xt, (Wt, xt), grad_outputs=torch.tensor(g, dtype=torch.float64))
    return dW.numpy(), dx.numpy()


def torch_tanh_vjp(z: np.ndarray, g: np.ndarray) -> np.ndarray:
    """dL/dz of y = tanh(z) for dL/dy = g, by torch float64."""
    import torch

    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    (dz,) = torch.autograd.grad(torch.tanh(zt), (zt,), grad_outputs=torch.tensor(g, dtype=torch.float64))
    return dz.numpy()


def _matvec_grads(MatVec: type, W: np.ndarray, x: np.ndarray, g: np.ndarray) -> Any:
    """What the student's MatVec().backward(g) returns after forward(W, x) (on copies of the inputs)."""
    op = MatVec()
    op.forward(W.copy(), x.copy())
    return op.backward(g.copy())


TRANSPOSED_DX = ("this is W @ g: the gradient flows back through the transpose, dL/dx = W.T @ g "
                 "(it has the shape of x)")


TRANSPOSED_DW = ("this is x g^T, the transpose: dL/dW[i, j] = g[i] * x[j], np.outer(g, x) (it has the "
                 "shape of W)")


SHAPES = ("shapes tell the orientation: dL/dx = W.T @ g has the shape of x, dL/dW = np.outer(g, x) the "
          "shape of W")


def ask_matvec(what: str, MatVec: type, W: np.ndarray, x: np.ndarray, g: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """The student's (dL/dW, dL/dx), each of its input's shape."""
    __tracebackhide__ = True
    got = ask_explained(what, _matvec_grads, MatVec, W, x, g, explain=lambda err: misconception(
        "jacobian-transposed", SHAPES) if err.is_a("ValueError") else None)
    if got is None:
        fail(f"{what} returned None", hint=missing_return("MatVec.backward", "(dL/dW, dL/dx)"))
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        fail(f"{what} must return a tuple (dL/dW, dL/dx)", got=got)
    dW, dx = array(f"dL/dW from {what}", got[0]), array(f"dL/dx from {what}", got[1])
    if dW.shape == x.shape and dx.shape == W.shape and W.shape != x.shape:
        fail(f"{what} returned (dL/dx, dL/dW)", expected=f"(dL/dW of shape {W.shape}, dL/dx of shape {x.shape})",
             got=f"shapes ({dW.shape}, {dx.shape})",
             hint=misconception("gradients-swapped", "return one gradient per input, in the order of "
                                "forward's inputs: (dL/dW, dL/dx)"))
    for name, arr, shape in (("dL/dW", dW, W.shape), ("dL/dx", dx, x.shape)):
        if arr.shape != shape:
            fail(f"shape of {name} from {what}", expected=f"shape {shape}", got=f"shape {arr.shape}",
                 hint=misconception("jacobian-transposed", "a gradient has the shape of what it is the "
                                    "gradient of: " + SHAPES))
    return dW, dx


def expect_matvec(MatVec: type, W: np.ndarray, x: np.ndarray, g: np.ndarray,
                  known_dW: Sequence = (), known_dx: Sequence = ()) -> None:
    """MatVec.backward(g) against torch's VJP of W @ x."""
    what = f"MatVec.backward(g) after forward(W, x), W of shape {W.shape}"
    dW, dx = ask_matvec(what, MatVec, W, x, g)
    want_dW, want_dx = torch_matvec_vjp(W, x, g)
    inputs = {"W": W, "x": x, "g": g}
    known = [("jacobian-transposed", W @ g, TRANSPOSED_DX)] if W.shape[0] == W.shape[1] else []
    expect_close(f"dL/dx from {what}", dx, want_dx, tol=TOL, inputs=inputs, known=[*known, *known_dx])
    known = [("jacobian-transposed", np.outer(x, g), TRANSPOSED_DW)] if W.shape[0] == W.shape[1] else []
    expect_close(f"dL/dW from {what}", dW, want_dW, tol=TOL, inputs=inputs, known=[*known, *known_dW])


def _tanh_grads(Tanh: type, z: np.ndarray, g: np.ndarray) -> Any:
    """What the student's Tanh().backward(g) returns after forward(z) (on copies of the inputs)."""
    op = Tanh()
    op.forward(z.copy())
    return op.backward(g.copy())


def tanh_known(z: np.ndarray, g: np.ndarray) -> list[tuple[str, Any, str]]:
    """The VJPs of tanh that its usual mistakes give."""
    y = np.tanh(z)
    return [("incoming-gradient-dropped", 1 - y ** 2, "this is the local derivative 1 - y² alone: multiply "
             "it by the incoming gradient g (chain rule)"),
            ("tanh-derivative-of-input", g * (1 - z ** 2), "1 - tanh(z)² uses the output y = tanh(z), not z"),
            ("tanh-derivative-square-missing", g * (1 - y), "the derivative of tanh is 1 - y², y squared")]


def expect_tanh(Tanh: type, z: np.ndarray, g: np.ndarray, known: Sequence = ()) -> None:
    """Tanh.backward(g) against torch's VJP of tanh."""
    what = f"Tanh.backward(g) after forward(z), z of shape {z.shape}"
    got = ask(what, _tanh_grads, Tanh, z, g)
    if got is None:
        fail(f"{what} returned None", hint=missing_return("Tanh.backward", "(dL/dz,)"))
    if not (isinstance(got, tuple) and len(got) == 1):
        fail(f"{what} must return a tuple with one gradient, (dL/dz,)", got=got,
             hint=misconception("backward-not-a-tuple", "backward returns one gradient per input, in a "
                                "tuple even for one input: return (g * (...),)"))
    dz = array(f"dL/dz from {what}", got[0], shape=z.shape)
    expect_close(f"dL/dz from {what}", dz, torch_tanh_vjp(z, g), tol=TOL, inputs={"z": z, "g": g},
                 known=[*tanh_known(z, g), *known])


def layers_by_student(MatVec: type, Tanh: type, Ws: list[np.ndarray], bs: list[np.ndarray], x: np.ndarray,
                      t: np.ndarray) -> dict[str, Any]:
    """L = sum((y - t)²) for y = tanh(W_k ... tanh(W_1 x + b_1) ... + b_k), forward by the student's ops,
    backward by their backward methods (the Add node passes g to both inputs): every gradient, by name."""
    ops, h = [], x.copy()
    for W, b in zip(Ws, bs):
        mv, th = MatVec(), Tanh()
        h = th.forward(mv.forward(W.copy(), h) + b)
        ops.append((mv, th))
    g = 2.0 * (np.asarray(h, dtype=float) - t)
    grads: dict[str, Any] = {}
    for k in range(len(Ws), 0, -1):
        mv, th = ops[k - 1]
        (dz,) = th.backward(g)
        grads[f"b{k}"] = dz
        grads[f"W{k}"], g = mv.backward(dz)
    grads["x"] = g
    return grads


def torch_layers(Ws: list[np.ndarray], bs: list[np.ndarray], x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """The same gradients by torch float64."""
    import torch

    leaves = {f"W{k + 1}": torch.tensor(W, dtype=torch.float64, requires_grad=True) for k, W in enumerate(Ws)}
    leaves.update({f"b{k + 1}": torch.tensor(b, dtype=torch.float64, requires_grad=True) for k, b in enumerate(bs)})
    leaves["x"] = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    h = leaves["x"]
    for k in range(1, len(Ws) + 1):
        h = torch.tanh(leaves[f"W{k}"] @ h + leaves[f"b{k}"])
    ((h - torch.tensor(t, dtype=torch.float64)) ** 2).sum().backward()
    return {k: v.grad.numpy() for k, v in leaves.items()}


def expect_layers(MatVec: type, Tanh: type, Ws: list[np.ndarray], bs: list[np.ndarray], x: np.ndarray,
                  t: np.ndarray, what: str, tol: float = 1e-10) -> None:
    """Every gradient of the loss of ``len(Ws)`` layers, by the student's ops, against torch float64."""
    asked = f"the gradients of L = sum((y - t)²) for {what}, by your MatVec and Tanh"
    got = ask(asked, layers_by_student, MatVec, Tanh, Ws, bs, x, t)
    if not isinstance(got, dict):
        fail(asked, expected="a gradient for every parameter", got=got)
    names = [n.replace("1", "") for n in got] if len(Ws) == 1 else list(got)
    want = torch_layers(Ws, bs, x, t)
    for name, label in zip(got, names):
        arr = array(f"dL/d{label} of {what}", got[name], shape=want[name].shape)
        expect_close(f"dL/d{label} of {what}, against torch float64", arr, want[name], tol=tol,
                     hint=["check MatVec and Tanh with the tests above first"])
