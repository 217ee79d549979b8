"""``python -m autograder <command>``: the instructor's tool."""
from __future__ import annotations

import argparse
import sys
from collections import Counter

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


def _course_timezone(root) -> str:
    from . import config
    return config.load(root).timezone


def cmd_collect(args: argparse.Namespace) -> int:
    from . import collect
    from .batch import Course
    course = Course(args.root)
    names = [p.name for p in course.release_notebooks(args.assignment)]
    if args.exchange is not None:
        return _collect_exchange(args, course.root, names)
    if not args.source:
        raise SystemExit("collect: name a folder or .zip, or use --exchange")
    got = collect.collect(args.source, course.root, args.assignment, names, pattern=args.pattern,
                          timezone=args.timezone or _course_timezone(course.root))
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
                            timeout=args.timeout, disk=args.disk << 20)
    for a in _assignment_names(args):
        done, sandbox = batch.autograde(args.root, a, workers=args.workers, limits=limits,
                                        students=args.student or None, progress=not args.quiet,
                                        require_isolation=args.require_isolation, run_slow=args.run_slow,
                                        scheduler=args.scheduler, engine=args.engine, resume=args.resume,
                                        warm_start=not args.cold_start)
        counts = Counter(r.status for r in done)
        print(f"{a}: {len(done)} notebook(s): " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
        print(f"isolation: {sandbox.summary()}")
        starts = Counter(r.started for r in done if r.started)
        if starts:
            print("kernels started: " + ", ".join(f"{v} {k}" for k, v in sorted(starts.items())))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """A Dask worker for autograde --scheduler: one single-threaded grading process per core."""
    import os
    from . import isolate
    n = args.nworkers or os.cpu_count() or 1
    argv = [sys.executable, "-m", "distributed.cli.dask_worker", args.scheduler, "--nworkers", str(n),
            "--nthreads", "1", "--preload", "autograder.cluster", "--no-dashboard"]
    if args.name:
        argv += ["--name", args.name]
    path = [str(isolate.ROOT), str(isolate.CHECKS), os.environ.get("PYTHONPATH")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, path)))
    print(f"grading worker: {n} process(es) for {args.scheduler}", flush=True)
    os.execvpe(argv[0], argv, env)
    return 1  # pragma: no cover


def cmd_feedback(args: argparse.Namespace) -> int:
    from . import feedback
    bad = 0
    for a in _assignment_names(args):
        run = feedback.feedback(args.root, a)
        print(f"{a}: feedback for {len(run.written)} notebook(s) in feedback/<student>/{a}/")
        for student, why in sorted(run.failed.items()):
            print(f"  NO FEEDBACK for {student}: {why}")
        bad += len(run.failed)
        if args.exchange is not None:
            from . import exchange
            sent = exchange.release_feedback(args.root, a, args.exchange or None, course_id=args.course_id)
            print(f"{a}: feedback released through the exchange to {len(sent)} student(s)")
    return 1 if bad else 0


def cmd_export(args: argparse.Namespace) -> int:
    from . import export
    names = _assignment_names(args)
    default = {"csv": "exports/grades.csv", "canvas": "exports/canvas.csv",
               "moodle": f"exports/moodle-{names[0]}.csv"}[args.format]
    res = export.export(args.root, names, args.output or default, args.format, roster=args.roster)
    for p in res.problems:
        print(f"  not exported: {p}")
    print(f"wrote {res.path} ({res.rows} row(s), format {args.format})")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from . import report
    names = _assignment_names(args)
    if args.html:
        from . import html_report
        if args.output and len(names) > 1:
            raise SystemExit("--output names one page: give one assignment")
        for a in names:
            print(f"wrote {html_report.write(args.root, a, args.output)}")
        return 0
    for a in names:
        print(report.class_report(args.root, a))
        print()
    return 0


def _exchange_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--exchange", nargs="?", const="", default=None, metavar="ROOT",
                   help=f"{what} (ROOT default: $NBGRADER_EXCHANGE, else /srv/nbgrader/exchange)")
    p.add_argument("--course-id", default="autodiff", help="the course's id in the exchange (default autodiff)")


def cmd_regrade(args: argparse.Namespace) -> int:
    from . import isolate, regrade
    limits = isolate.Limits(cell_timeout=args.cell_timeout, timeout=args.timeout)
    res = regrade.regrade(args.root, args.assignment, dry_run=args.dry_run, workers=args.workers, limits=limits,
                          progress=not args.quiet)
    print(res.table())
    if res.record:
        print(f"recorded in {res.record}")
    return 0


def _grading_parsers(sub) -> None:
    from . import release as _release
    root = str(_release.ROOT)
    p = sub.add_parser("collect", help="submissions from a folder or LMS zip into submitted/ (notebooks only)")
    p.add_argument("assignment")
    p.add_argument("source", nargs="?", help="a folder (one sub-folder per student) or a .zip export")
    p.add_argument("--pattern", help="regex with a (?P<student>...) group, matched against each file's path")
    _exchange_options(p, "take the newest submission of each student from the nbgrader exchange")
    p.add_argument("--timezone", help="time zone of the zip's entry times (default: course.toml's, else UTC)")
    p.set_defaults(func=cmd_collect)
    p = sub.add_parser("autograde", help="grade submissions in parallel, each in its own sandbox")
    p.add_argument("assignments", nargs="*", help="assignments (default: all in release/)")
    p.add_argument("--workers", "-j", type=int, default=None, help="worker processes (default: cores)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--timeout", type=int, default=600, help="seconds per submission (default 600)")
    p.add_argument("--cell-timeout", type=int, default=120, help="seconds per cell (default 120)")
    p.add_argument("--memory", type=int, default=1024, help="MiB of address space per kernel (default 1024)")
    p.add_argument("--nproc", type=int, default=256, help="processes and threads per kernel (default 256)")
    p.add_argument("--disk", type=int, default=128, help="MiB the student's code may write in all (default 128)")
    p.add_argument("--require-isolation", action="store_true",
                   help="refuse to grade if any isolation mechanism is unavailable")
    p.add_argument("--run-slow", action="store_true",
                   help="also run the cells tagged slow (widgets, training, plots: no test needs them)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--scheduler", help="grade on the Dask cluster of this scheduler (tcp://HOST:PORT)")
    p.add_argument("--engine", choices=("pool", "dask"), default="pool",
                   help="without --scheduler: a local process pool (default, faster here) or a local Dask cluster")
    p.add_argument("--resume", action="store_true",
                   help="continue the last interrupted run: grade only what it has not written")
    p.add_argument("--cold-start", action="store_true",
                   help="start every kernel as a new interpreter, not from the worker's fork server (slower)")
    p.set_defaults(func=cmd_autograde)
    p = sub.add_parser("worker", help="a Dask grading worker for autograde --scheduler (on any machine with the course set up)")
    p.add_argument("--scheduler", required=True, help="the scheduler's address, tcp://HOST:PORT")
    p.add_argument("--nworkers", type=int, default=None, help="grading processes (default: cores)")
    p.add_argument("--name", help="this worker's name (default: its address)")
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("feedback", help="HTML feedback per student, hidden tests removed")
    p.add_argument("assignments", nargs="*")
    _exchange_options(p, "also release the feedback through the nbgrader exchange")
    p.set_defaults(func=cmd_feedback)
    p = sub.add_parser("export", help="grades: the course's CSV, or a file Canvas or Moodle imports")
    p.add_argument("assignments", nargs="*")
    p.add_argument("--format", choices=["csv", "canvas", "moodle"], default="csv")
    p.add_argument("--roster", help="the LMS's own export (Canvas gradebook CSV, Moodle grading worksheet)")
    p.add_argument("--output", "-o", default=None, help="default: exports/grades.csv, canvas.csv, moodle-<A>.csv")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("report", help="class report: statuses, pass rates, misconceptions, isolation")
    p.add_argument("assignments", nargs="*")
    p.add_argument("--html", action="store_true",
                   help="one self-contained HTML page with figures (default reports/<A>.html in the course)")
    p.add_argument("--output", "-o", default=None, help="where the HTML page goes")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("regrade", help="after a test changed in source/: regrade what it affects, keep manual grades")
    p.add_argument("assignment")
    p.add_argument("--dry-run", action="store_true", help="print the before/after table, write nothing")
    p.add_argument("--workers", "-j", type=int, default=None)
    p.add_argument("--timeout", type=int, default=600, help="seconds per submission (default 600)")
    p.add_argument("--cell-timeout", type=int, default=120, help="seconds per cell (default 120)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_regrade)
    for name in ("collect", "autograde", "feedback", "export", "report", "regrade"):
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
