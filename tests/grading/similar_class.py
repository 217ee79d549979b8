"""A class for measuring similar-submission detection: honest work that looks alike because the
exercise is small, and planted copies disguised the way students disguise them.

The exercise: four short functions (forward and central differences, a gradient on a grid,
the best step size). Each honest student picks, independently and at random (seeded), one of
several ways to write each function and small choices within it (operand order, temporaries,
a numpy or a plain loop, comments), and names of their own. A planted copy takes an honest
student's answer, renames every variable, reorders the functions and rewrites the comments; a
partial copy takes three of the four functions and writes the fourth anew.
"""
from __future__ import annotations

import random
import re

NAMES = ["forward_difference", "central_difference", "gradient", "best_step"]
GIVEN = "\n\n".join(f"def {n}(f, x, h):\n    # YOUR CODE HERE\n    raise NotImplementedError()" for n in NAMES)

FORWARD = ["    return (f({x} + {h}) - f({x})) / {h}",
           "    {a} = f({x})\n    {b} = f({x} + {h})\n    return ({b} - {a}) / {h}",
           "    {a} = f({x} + {h}) - f({x})\n    return {a} / {h}"]
CENTRAL = ["    return (f({x} + {h}) - f({x} - {h})) / ({two})",
           "    {a} = f({x} + {h})\n    {b} = f({x} - {h})\n    return ({a} - {b}) / ({two})",
           "    return (f({x} + {h}) - f({x} - {h})) / {h} / 2",
           "    return 0.5 * (f({x} + {h}) - f({x} - {h})) / {h}"]
GRADIENT = ["    return [central_difference(f, {a}, {h}) for {a} in {x}]",
            "    {b} = []\n    for {a} in {x}:\n        {b}.append(central_difference(f, {a}, {h}))\n    return {b}",
            "    return list(map(lambda {a}: central_difference(f, {a}, {h}), {x}))",
            "    import numpy as np\n    return np.array([central_difference(f, float({a}), {h}) for {a} in {x}])"]
BEST = ["    {a} = [abs(central_difference(f, {x}, {c}) - {e}) for {c} in {h}]\n    return {h}[{a}.index(min({a}))]",
        "    return min({h}, key=lambda {c}: abs(central_difference(f, {x}, {c}) - {e}))",
        "    {b}, {a} = None, float('inf')\n    for {c} in {h}:\n        {d} = abs(central_difference(f, {x}, {c}) - {e})\n"
        "        if {d} < {a}:\n            {b}, {a} = {c}, {d}\n    return {b}",
        "    import numpy as np\n    {a} = np.abs([central_difference(f, {x}, {c}) - {e} for {c} in {h}])\n"
        "    return {h}[int(np.argmin({a}))]"]
TWO = ["2 * {h}", "{h} * 2", "2.0 * {h}"]
SIGS = {"forward_difference": "f, {x}, {h}", "central_difference": "f, {x}, {h}", "gradient": "f, {x}, {h}",
        "best_step": "f, {x}, {e}, {h}"}
COMMENTS = ["", "    # step to one side\n", "    # numerical derivative\n", "    # see lecture 2\n"]
WORDS = ["x", "x0", "point", "t", "h", "step", "eps", "delta", "a", "b", "up", "down", "left", "right", "fx",
         "fxh", "diff", "out", "vals", "res", "err", "errs", "best", "cand", "exact", "target", "hs", "steps",
         "grid", "xs", "pts", "e", "val", "tmp", "acc", "k", "i", "dx", "y", "z"]


def _names(rng: random.Random) -> dict[str, str]:
    pick = rng.sample(WORDS, 8)
    return dict(zip("xhabcdeq", pick))


def _function(name: str, style: str, rng: random.Random, two: str) -> str:
    n = _names(rng)
    n["two"] = two.format(h=n["h"])
    sig = SIGS[name].format(**n)
    return f"def {name}({sig}):\n{rng.choice(COMMENTS)}{style.format(**n)}\n"


def honest(rng: random.Random) -> list[str]:
    """One honest answer: a function per name, in the exercise's order."""
    two = rng.choice(TWO)
    styles = {"forward_difference": rng.choice(FORWARD), "central_difference": rng.choice(CENTRAL),
              "gradient": rng.choice(GRADIENT), "best_step": rng.choice(BEST)}
    return [_function(name, styles[name], rng, two) for name in NAMES]


def disguise(functions: list[str], rng: random.Random) -> list[str]:
    """A planted copy: every variable renamed, functions reordered, comments rewritten."""
    out = []
    for fn in functions:
        fn = re.sub(r"    #[^\n]*\n", "", fn)
        head, body = fn.split("\n", 1)
        used = sorted(set(re.findall(r"\b[a-z_][a-z0-9_]*\b", head.split("(", 1)[1])) - {"f"})
        fresh = dict(zip(used, rng.sample([w + "_" for w in WORDS], len(used))))
        for old, new in fresh.items():
            head = re.sub(rf"\b{old}\b", new, head)
            body = re.sub(rf"\b{old}\b", new, body)
        for local in sorted(set(re.findall(r"\b([a-z]+)\b\s*(?:,\s*[a-z]+\s*)?=(?!=)", body))):
            if local not in fresh and local not in ("f", "np", "key"):
                body = re.sub(rf"\b{local}\b", local + "_v", body)
        out.append(head + "\n" + "    # my own work\n" + body)
    rng.shuffle(out)
    return out


def make_class(n_honest: int = 24, n_copies: int = 4, seed: int = 2026) -> tuple[dict[str, str], set[frozenset]]:
    """(student -> answer code, the planted pairs)."""
    rng = random.Random(seed)
    work = {f"s{i:02d}": honest(rng) for i in range(n_honest)}
    answers = {s: "\n\n".join(fns) for s, fns in work.items()}
    planted: set[frozenset] = set()
    sources = rng.sample(sorted(work), n_copies + 1)
    for k, src in enumerate(sources[:n_copies]):
        copy = f"copy{k}_of_{src}"
        answers[copy] = "\n\n".join(disguise(work[src], rng))
        planted.add(frozenset((src, copy)))
    src = sources[-1]  # a partial copy: three functions copied, the fourth written anew
    own = honest(rng)
    mixed = disguise(work[src][:3], rng) + [own[3]]
    answers[f"partial_of_{src}"] = "\n\n".join(mixed)
    planted.add(frozenset((src, f"partial_of_{src}")))
    return answers, planted
