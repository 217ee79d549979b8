"""``python -m autograder <command>``: the instructor's tool."""
from __future__ import annotations

import argparse
import sys

from . import release


def cmd_release(args: argparse.Namespace) -> int:
    from . import textsource
    names = args.assignments or release.assignments()
    for nb in textsource.build_all(release.SOURCE, names):
        print(f"  built {nb.relative_to(release.ROOT)} from its text source", flush=True)
    print(f"regenerating release/ for {', '.join(names)}", flush=True)
    for nb in release.generate(names=names):
        print(f"  wrote {nb.relative_to(release.ROOT)}", flush=True)
    if args.no_check:
        return 0
    bad = 0
    for name in names:
        print(f"checking {name}: sources pass every test, releases fail every test ...", flush=True)
        problems = release.check(name)
        for p in problems:
            print(f"  PROBLEM {p}")
        bad += len(problems)
        print(f"  {'ok' if not problems else f'{len(problems)} problem(s)'}", flush=True)
    return 1 if bad else 0


def cmd_text(args: argparse.Namespace) -> int:
    from . import textsource
    for name in args.assignments or release.assignments():
        for nb in sorted((release.SOURCE / name).glob("*.ipynb")):
            out = textsource.to_text(nb)
            print(f"  wrote {out.relative_to(release.ROOT)} from {nb.name}: now run ./run grade release {name}")
    return 0


def _assignment_names(args: argparse.Namespace) -> list[str]:
    from pathlib import Path
    names = args.assignments or sorted(p.name for p in (Path(args.root) / "release").iterdir() if p.is_dir())
    if not names:
        raise SystemExit("no assignments: name one, or run ./run grade release first")
    return names


def cmd_collect(args: argparse.Namespace) -> int:
    from . import collect
    from .batch import Course
    course = Course(args.root)
    names = [p.name for p in course.release_notebooks(args.assignment)]
    if args.exchange is not None:
        return _collect_exchange(args, course.root, names)
    if not args.source:
        raise SystemExit("collect: name a folder or .zip, or use --exchange")
    got = collect.collect(args.source, course.root, args.assignment, names, pattern=args.pattern)
    for student, src in got.students.items():
        print(f"  {student:<24} <- {src}")
    for why in got.skipped:
        print(f"  left out: {why}")
    print(got.summary())
    return 0


def _collect_exchange(args: argparse.Namespace, root, names: list[str]) -> int:
    from . import exchange
    got = exchange.collect(root, args.assignment, names, args.exchange or None, course_id=args.course_id)
    for student, src in got.collected.students.items():
        print(f"  {student:<24} <- {src}")
    for why in got.left_out + got.collected.skipped:
        print(f"  left out: {why}")
    print(got.summary())
    return 0


def cmd_autograde(args: argparse.Namespace) -> int:
    from . import batch, isolate
    limits = isolate.Limits(memory=args.memory << 20, nproc=args.nproc, cell_timeout=args.cell_timeout,
                            timeout=args.timeout)
    for a in _assignment_names(args):
        done, sandbox = batch.autograde(args.root, a, workers=args.workers, limits=limits,
                                        students=args.student or None, progress=not args.quiet,
                                        require_isolation=args.require_isolation, run_slow=args.run_slow)
        counts: dict[str, int] = {}
        for r in done:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        print(f"{a}: {len(done)} notebook(s): " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
        print(f"isolation: {sandbox.summary()}")
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from . import report
    for a in _assignment_names(args):
        files = report.feedback(args.root, a)
        print(f"{a}: feedback for {len(files)} notebook(s) in feedback/<student>/{a}/")
        if args.exchange is not None:
            from . import exchange
            sent = exchange.release_feedback(args.root, a, args.exchange or None, course_id=args.course_id)
            print(f"{a}: feedback released through the exchange to {len(sent)} student(s)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from . import report
    out = report.export(args.root, _assignment_names(args), args.output)
    print(f"wrote {out}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from . import report
    for a in _assignment_names(args):
        print(report.class_report(args.root, a))
        print()
    return 0


def _exchange_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--exchange", nargs="?", const="", default=None, metavar="ROOT",
                   help=f"{what} (ROOT default: $NBGRADER_EXCHANGE, else /srv/nbgrader/exchange)")
    p.add_argument("--course-id", default="autodiff", help="the course's id in the exchange (default autodiff)")


def _grading_parsers(sub) -> None:
    from . import release as _release
    root = str(_release.ROOT)
    p = sub.add_parser("collect", help="submissions from a folder or LMS zip into submitted/ (notebooks only)")
    p.add_argument("assignment")
    p.add_argument("source", nargs="?", help="a folder (one sub-folder per student) or a .zip export")
    p.add_argument("--pattern", help="regex with a (?P<student>...) group, matched against each file's path")
    _exchange_options(p, "take the newest submission of each student from the nbgrader exchange")
    p.set_defaults(func=cmd_collect)
    p = sub.add_parser("autograde", help="grade submissions in parallel, each in its own sandbox")
    p.add_argument("assignments", nargs="*", help="assignments (default: all in release/)")
    p.add_argument("--workers", "-j", type=int, default=None, help="worker processes (default: cores)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--timeout", type=int, default=600, help="seconds per submission (default 600)")
    p.add_argument("--cell-timeout", type=int, default=120, help="seconds per cell (default 120)")
    p.add_argument("--memory", type=int, default=1024, help="MiB of address space per kernel (default 1024)")
    p.add_argument("--nproc", type=int, default=256, help="processes and threads per kernel (default 256)")
    p.add_argument("--require-isolation", action="store_true",
                   help="refuse to grade if any isolation mechanism is unavailable")
    p.add_argument("--run-slow", action="store_true",
                   help="also run the cells tagged slow (widgets, training, plots: no test needs them)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_autograde)
    p = sub.add_parser("feedback", help="HTML feedback per student, hidden tests removed")
    p.add_argument("assignments", nargs="*")
    _exchange_options(p, "also release the feedback through the nbgrader exchange")
    p.set_defaults(func=cmd_feedback)
    p = sub.add_parser("export", help="CSV of grades with a status column")
    p.add_argument("assignments", nargs="*")
    p.add_argument("--output", "-o", default="exports/grades.csv")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("report", help="class report: statuses, pass rates, misconceptions, isolation")
    p.add_argument("assignments", nargs="*")
    p.set_defaults(func=cmd_report)
    for name in ("collect", "autograde", "feedback", "export", "report"):
        sub.choices[name].add_argument("--root", default=root, help="course folder (default: this checkout)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./run grade", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="regenerate release/ from source/ and check it")
    p.add_argument("assignments", nargs="*", help="assignment folders (default: all)")
    p.add_argument("--no-check", action="store_true", help="only regenerate")
    p.set_defaults(func=cmd_release)
    p = sub.add_parser("text", help="write a source notebook's edits back into its text source (the .py)")
    p.add_argument("assignments", nargs="*", help="assignment folders (default: all)")
    p.set_defaults(func=cmd_text)
    _grading_parsers(sub)
    args = parser.parse_args(argv)
    rc = args.func(args)
    if getattr(args, "root", None):  # root graded an instructor's course folder: give it back
        from .exchange import give_back
        give_back(args.root)
    return rc


if __name__ == "__main__":
    sys.exit(main())
