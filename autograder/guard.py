"""Runtime guard: cells the grader adds around a student's notebook.

Before any student code, a *setup* cell takes a snapshot of what the tests rely
on: the builtins, ``math``, ``numpy``, ``numpy.testing``, the course's check
helpers, the IPython input transformers, AST transformers and event
callbacks, the trace/profile/display/except hooks and ``sys.stdout``. Before
every test cell, a *guard* cell puts back whatever differs (so monkeypatches
and hooks are gone when the test runs), removes student variables that
shadow a name the test reads (``float = lambda x: 14.0``), and prints one
line ``AUTOGRADER-GUARD <nonce> <json list of repairs>``.

The worker knows each guard's random nonce; a guard whose line is missing was
skipped or rewritten (a hook got to it first), a guard that repaired anything
found tampering. Both withhold the score. The guard runs in the student's
process, so it is one layer: the static scan (:func:`autograder.sanitize.scan`)
and the sandbox are the others.
"""
from __future__ import annotations

import json
import secrets

MARK = "AUTOGRADER-GUARD"

SETUP = r'''
def __autograder_install():
    import builtins, sys, math, json, types
    import numpy, numpy.testing
    try:
        import course.checks, course.numeric
        extra = [course.checks, course.numeric]
    except Exception:
        extra = []
    ip = get_ipython()
    mods = [builtins, math, numpy, numpy.testing, json] + extra
    volatile = {"input", "raw_input", "getpass", "_", "__", "___"}  # the kernel rebinds these per request
    snap_mods = {m.__name__: (m, {k: v for k, v in vars(m).items() if k not in volatile}) for m in mods}
    itm = ip.input_transformer_manager
    lists = {"input_transformers_cleanup": ip.input_transformers_cleanup,
             "input_transformers_post": ip.input_transformers_post,
             "ast_transformers": ip.ast_transformers,
             "itm.cleanup_transforms": itm.cleanup_transforms,
             "itm.line_transforms": itm.line_transforms,
             "itm.token_transformers": itm.token_transformers}
    snap_lists = {k: (v, list(v)) for k, v in lists.items()}
    snap_events = {k: list(v) for k, v in ip.events.callbacks.items()}
    snap_sys = {k: getattr(sys, k) for k in ("stdout", "stderr", "displayhook")}
    snap_trace = (sys.gettrace(), sys.getprofile())
    snap_ip = {k: getattr(type(ip), k) for k in ("run_cell", "run_ast_nodes", "run_code", "transform_cell")}
    builtin_names = set(vars(builtins))
    _id, _getattr, _setattr, _list, _print, _dumps, _vars = id, getattr, setattr, list, print, json.dumps, vars
    _sorted, _isinstance, _str = sorted, isinstance, str
    module_names = {"np": numpy, "numpy": numpy, "math": math}
    libraries = ("matplotlib", "matplotlib_inline", "ipykernel", "IPython.", "ipywidgets", "comm", "torch")

    def trusted(cb):  # callbacks that plotting and widget libraries register on import
        mod = _getattr(cb, "__module__", None) or _getattr(_getattr(cb, "__func__", None), "__module__", "") or ""
        return _isinstance(mod, _str) and mod.startswith(libraries)

    def guard(nonce, names):
        fixed = []
        for name, (mod, saved) in snap_mods.items():
            now = _vars(mod)
            for k, v in saved.items():
                if now.get(k, fixed) is not v:
                    now[k] = v
                    fixed.append(f"{name}.{k} replaced")
            if sys.modules.get(name) is not mod:
                sys.modules[name] = mod
                fixed.append(f"sys.modules[{name!r}] replaced")
        for k, (lst, saved) in snap_lists.items():
            if _list(lst) != saved:
                lst[:] = saved
                fixed.append(f"IPython {k} changed")
        for k, saved in snap_events.items():
            cur = _list(ip.events.callbacks.get(k) or [])
            extra = [cb for cb in cur if cb not in saved and not trusted(cb)]
            gone = [cb for cb in saved if cb not in cur]
            if extra or gone:
                ip.events.callbacks[k] = [cb for cb in cur if cb not in extra] + gone
                fixed.append(f"IPython event {k} hooked")
        for k, v in snap_sys.items():
            if _getattr(sys, k) is not v:
                _setattr(sys, k, v)
                fixed.append(f"sys.{k} replaced")
        if (sys.gettrace(), sys.getprofile()) != snap_trace:
            sys.settrace(snap_trace[0]); sys.setprofile(snap_trace[1])
            fixed.append("trace or profile hook set")
        for k, v in snap_ip.items():
            if _getattr(type(ip), k) is not v or k in _vars(ip):
                _setattr(type(ip), k, v)
                _vars(ip).pop(k, None)
                fixed.append(f"shell.{k} replaced")
        ns = ip.user_ns
        for n in names:
            if n in builtin_names and n in ns:
                del ns[n]
                fixed.append(f"variable {n!r} shadows a builtin the test uses")
            elif n in module_names and ns.get(n, module_names[n]) is not module_names[n]:
                ns[n] = module_names[n]
                fixed.append(f"{n!r} is not the real module")
        _print("AUTOGRADER-GUARD " + nonce + " " + _dumps(_sorted(set(fixed))), flush=True)

    return guard

__autograder_guard = __autograder_install()
del __autograder_install
'''.strip()


def setup_source() -> str:
    return SETUP


def guard_source(names: list[str]) -> tuple[str, str]:
    """The guard cell before one test cell, and its nonce."""
    nonce = secrets.token_hex(8)
    return f"__autograder_guard({nonce!r}, {json.dumps(names)})", nonce


def read_guard(outputs: list, nonce: str) -> list[str] | None:
    """The repairs a guard reported, or None if its line is missing (the guard did not run as written)."""
    text = "".join(o.get("text", "") for o in outputs
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0] == MARK and parts[1] == nonce:
            try:
                return list(json.loads(parts[2]))
            except ValueError:
                return None
    return None
