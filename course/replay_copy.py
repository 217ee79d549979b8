"""A copy of a student's graph whose closures point at the copies, and a recorder of its calls.

:func:`copy_graph` copies every node reachable from an output and rebuilds
each ``_backward`` (a closure's cells and defaults, a bound method's ``self``)
so that running it changes the copies only; :class:`Recorder` wraps every
copy's ``_backward`` and logs the grads before and after each call. Used by
:mod:`course.replay`; the student's objects are only read.
"""
from __future__ import annotations

import copy
import types
from typing import Any, Callable

from course.graph import CHILD_ATTRS


# --- 1. a copy whose closures point at the copies ------------------------------------
def child_attr(obj: Any) -> str | None:
    """The attribute holding ``obj``'s inputs (the same search as :func:`course.graph.trace`)."""
    for attr in CHILD_ATTRS:
        if hasattr(obj, attr) and not callable(getattr(obj, attr)):
            return attr
    return None


def reachable(out: Any) -> list[Any]:
    """Every node object reachable from ``out`` (iterative; numbers among inputs are skipped)."""
    seen, order, stack = {id(out)}, [], [out]
    while stack:
        obj = stack.pop()
        order.append(obj)
        attr = child_attr(obj)
        for c in (getattr(obj, attr) or ()) if attr else ():
            if id(c) not in seen and not isinstance(c, (int, float)):
                seen.add(id(c))
                stack.append(c)
    return order


def _rebuild(value: Any, memo: dict[int, Any]) -> Any:
    """``value`` with every reference to an original node replaced by its copy."""
    if isinstance(value, types.MethodType) and id(value.__self__) in memo:
        return types.MethodType(value.__func__, memo[id(value.__self__)])
    if isinstance(value, types.FunctionType) and (value.__closure__ or value.__defaults__
                                                   or value.__kwdefaults__):
        cells = tuple(types.CellType(_deep(c.cell_contents, memo)) if _filled(c) else types.CellType()
                      for c in value.__closure__ or ())
        fn = types.FunctionType(value.__code__, value.__globals__, value.__name__,
                                _deep(value.__defaults__, memo), cells or None)
        fn.__kwdefaults__ = _deep(value.__kwdefaults__, memo)
        fn.__dict__.update(value.__dict__)
        return fn
    return value


def _filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # an empty cell (a name assigned later in the enclosing function)
        return False
    return True


def _deep(value: Any, memo: dict[int, Any]) -> Any:
    """A deep copy that maps original nodes to their copies; what cannot be copied is shared."""
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, (types.FunctionType, types.MethodType)):
        return _rebuild(value, memo)
    try:
        return copy.deepcopy(value, memo)
    except Exception:  # noqa: BLE001 (a module, a lock, a generator: read-only in practice)
        return value


def copy_graph(out: Any) -> dict[int, Any]:
    """``{id(original): copy}`` for every node under ``out``; every copy's grad is 0."""
    originals = reachable(out)
    memo: dict[int, Any] = {}
    for obj in originals:
        memo[id(obj)] = copy.copy(obj)
    memo[id(memo)] = [*originals]  # deepcopy's keep-alive list: originals outlive the copy
    for obj in originals:
        c = memo[id(obj)]
        attr = child_attr(obj)
        if attr:
            kids = getattr(obj, attr)
            mapped = [memo.get(id(k), k) for k in kids]
            setattr(c, attr, mapped if isinstance(kids, list) else type(kids)(mapped)
                    if isinstance(kids, (tuple, set, frozenset)) else tuple(mapped))
        for name, value in _attributes(c):
            if name != attr and isinstance(value, (types.FunctionType, types.MethodType)):
                setattr(c, name, _rebuild(value, memo))
        c.grad = 0.0
    return {k: v for k, v in memo.items() if k != id(memo)}


def _attributes(obj: Any) -> list[tuple[str, Any]]:
    """The instance's own attributes: ``__dict__`` and filled ``__slots__``."""
    found = dict(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name not in ("__dict__", "__weakref__") and hasattr(obj, name):
                found.setdefault(name, getattr(obj, name))
    return list(found.items())


# --- 2. record the student's calls ---------------------------------------------------
class Recorder:
    """Wraps every copy's ``_backward``; logs (node, grads before, grads after) per call."""

    def __init__(self, copies: list[Any], index: dict[int, int]) -> None:
        self.copies, self.index = copies, index
        self.log: list[tuple[int, list[float | None], list[float | None], str]] = []
        self.limit = 10 * len(copies) + 100  #: a backward in circles (or exponential) stops here
        self.too_many = False

    def grads(self) -> list[float | None]:
        out = []
        for c in self.copies:
            try:
                out.append(float(c.grad))
            except (TypeError, ValueError, AttributeError):
                out.append(None)
        return out

    def run(self, node: Any, call: Callable[[], Any]) -> Any:
        if len(self.log) >= self.limit:
            self.too_many = True
            raise Stop()
        before = self.grads()
        try:
            result = call()
        except NotImplementedError:
            raise
        except Exception as err:
            self.log.append((self.index[id(node)], before, self.grads(), f"{type(err).__name__}: {err}"))
            raise Stop() from err
        self.log.append((self.index[id(node)], before, self.grads(), ""))
        return result

    def install(self) -> None:
        swapped: dict[type, type] = {}
        for c in self.copies:
            if isinstance(c, Placeholder):
                continue
            inner = c._backward if hasattr(c, "_backward") else (lambda: None)
            wrapper = (lambda c=c, inner=inner: self.run(c, inner))
            try:
                setattr(c, "_backward", wrapper)
            except AttributeError:  # a method on a class with __slots__: swap in a subclass
                cls = type(c)
                if cls not in swapped:
                    swapped[cls] = _recording_class(cls, self)
                c.__class__ = swapped[cls]


class Placeholder:
    """Stands for a plain number stored among a node's inputs: its grad never changes."""

    grad = 0.0


class Stop(Exception):
    """A ``_backward`` raised: the replay ends there (the error is in the log)."""


def _recording_class(cls: type, rec: Recorder) -> type:
    base = cls._backward

    def _backward(self):
        return rec.run(self, lambda: base(self))
    return type(cls.__name__, (cls,), {"__slots__": (), "_backward": _backward,
                                        "__module__": cls.__module__, "__qualname__": cls.__qualname__})
