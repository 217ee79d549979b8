"""Grading throughput: plain ``nbgrader autograde`` against this course's pipeline, same run.

A class of 50 submissions of one course notebook (``--assignment``, default the first in
source/ and release/, else the grading tests' fixture notebook): correct ones (the source's
solutions in the released notebook), wrong ones (the released stubs), broken ones (a syntax
error, an exception at import). Every grader gets identical copies; the pipeline runs with
isolation on. Per round it grades with plain nbgrader, the pipeline's local process pool
(one worker per core), the same pool with every kernel started cold (a new interpreter, as
before the fork servers of :mod:`autograder.forkserver`) and the pipeline on a local
two-worker Dask cluster; then, once, a one-worker pool and a one-worker Dask cluster on the
same class, whose difference is Dask's overhead per task. Prints submissions per minute, the ratios, the median seconds of each
grading step of a submission, and checks that every grader gave every student the same score.

    ./run python benchmarks/grading_throughput.py [--assignment 01_numerical_slopes] [--students 50]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "grading"))

from autograder import batch, isolate  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402


def pick_assignment(tmp: Path, wanted: str | None = None) -> tuple[Path, str]:
    """A course folder with one assignment: ``wanted``, else the first real one, else the fixture."""
    course = tmp / "template"
    names = [p.name for p in sorted((ROOT / "source").glob("*")) if (ROOT / "release" / p.name).is_dir()
             and list((ROOT / "source" / p.name).glob("*.ipynb"))]
    if wanted and wanted not in names:
        raise SystemExit(f"no source/{wanted} with a release: choose from {names}")
    if names:
        name = wanted or names[0]
        for d in ("source", "release"):
            shutil.copytree(ROOT / d / name, course / d / name)
        if (ROOT / "course.toml").is_file():  # the modules withheld while it is graded
            shutil.copy(ROOT / "course.toml", course / "course.toml")
    else:
        import fixture_course
        fixture_course.make_course(course)
        name = fixture_course.ASSIGNMENT
    return course, name


def make_class(course: Path, name: str, n: int) -> dict[str, str]:
    """n submissions, about half correct, a third wrong, the rest broken; returns student -> kind."""
    nb_name = next((course / "release" / name).glob("*.ipynb")).name
    rel = nbformat.read(course / "release" / name / nb_name, as_version=4)
    src = nbformat.read(course / "source" / name / nb_name, as_version=4)
    sol = {c.metadata["nbgrader"]["grade_id"]: c.source for c in src.cells
           if c.metadata.get("nbgrader", {}).get("solution")}
    kinds = {}
    for i in range(n):
        kind = "correct" if i % 6 in (0, 1, 2) else "wrong" if i % 6 in (3, 4) else "broken"
        nb = nbformat.from_dict(rel)
        sol_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        for j, c in enumerate(sol_cells):
            gid = c.metadata["nbgrader"]["grade_id"]
            if kind == "correct" or (kind == "broken" and j > 0):
                c.source = sol[gid]
        if kind == "broken":
            first = sol_cells[0]
            first.source = (sol[first.metadata["nbgrader"]["grade_id"]] + "\n    return )" if i % 2
                            else "raise RuntimeError('half-finished')\n" + sol[first.metadata["nbgrader"]["grade_id"]])
        student = f"s{i:03d}"
        folder = course / "submitted" / student / name
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / nb_name)
        kinds[student] = kind
    return kinds


def course_copy(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    (dest / "nbgrader_config.py").write_text(
        f"c = get_config()\nload_subconfig({str(ROOT / 'autograder' / 'nbgrader_config.py')!r})\n"
        f"c.CourseDirectory.root = {str(dest)!r}\n")
    return dest


def plain_nbgrader(course: Path, name: str, n: int) -> tuple[float, list[float]]:
    """Seconds for ``nbgrader autograde`` (the assignment is put in its gradebook first, untimed),
    and the seconds between consecutive submissions (to spot a stall)."""
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]),
               PYTHONPATH=os.pathsep.join([str(ROOT / "autograder" / "hidden"), os.environ.get("PYTHONPATH", "")]))
    shutil.move(course / "release", course / "release.keep")  # generate_assignment writes release/
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force"],
                   cwd=course, env=env, check=True, capture_output=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "nbgrader", "autograde", name, "--force"], cwd=course, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    done, marks = 0, []
    for line in proc.stdout:
        if re.search(r"Converting notebook .*submitted", line):
            done += 1
            marks.append(time.perf_counter())
            print(f"\r  plain nbgrader: {done}/{n} submissions", end="", file=sys.stderr, flush=True)
    proc.wait()
    end = time.perf_counter()
    print(file=sys.stderr)
    if proc.returncode != 0:
        print(f"  (nbgrader exited {proc.returncode}: some submissions errored, as broken ones do)")
    return end - t0, [b - a for a, b in zip(marks, marks[1:] + [end])]


def scores(course: Path, name: str) -> dict[str, float]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.find_assignment(name).submissions}


#: the limits of ``./run grade autograde`` by default (notebook 03's training cell can take a minute)
LIMITS = isolate.Limits(cell_timeout=120, timeout=600)


def pipeline(course: Path, name: str, workers: int, engine: str) -> tuple[float, list]:
    """Seconds for the pipeline on ``workers`` workers of ``engine`` ("pool", "dask", or "cold":
    the pool with every kernel started cold, as before the fork servers), and its results."""
    t0 = time.perf_counter()
    results, _ = batch.autograde(course, name, workers=workers, limits=LIMITS, progress=True,
                                 engine="pool" if engine == "cold" else engine, warm_start=engine != "cold")
    return time.perf_counter() - t0, results


def phase_medians(results: list) -> dict[str, float]:
    """The median seconds of each grading step over the submissions that ran."""
    steps = ("prepare", "parse", "rebuild", "scan", "plan", "kernel start", "kernel ready", "execute",
             "read outputs", "score", "set status")
    out = {}
    for k in steps:
        xs = [r.phases[k] for r in results if k in r.phases]
        if xs:
            out[k] = statistics.median(xs)
    out["total"] = statistics.median(r.seconds for r in results)
    return out


def same_scores(a: Path, b: Path, name: str, kinds: dict) -> str:
    sa, sb = scores(a, name), scores(b, name)
    diff = {s: (sa.get(s), sb.get(s)) for s in kinds if sa.get(s) != sb.get(s)}
    return "same score for every student" if not diff else f"SCORES DIFFER for {len(diff)}: {dict(list(diff.items())[:5])}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", help="a course assignment (default: the first)")
    ap.add_argument("--students", type=int, default=50)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-overhead", action="store_true", help="skip the one-worker pool and Dask runs")
    ap.add_argument("--rounds", type=int, default=2,
                    help="alternate the graders this many times; the best time of each counts "
                         "(the machine may be shared: alternating exposes all to the same load)")
    args = ap.parse_args()
    n = args.students
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        template, name = pick_assignment(tmp, args.assignment)
        kinds = make_class(template, name, n)
        print(f"class: {n} submissions of {name} "
              f"({sum(k == 'correct' for k in kinds.values())} correct, {sum(k == 'wrong' for k in kinds.values())} "
              f"wrong, {sum(k == 'broken' for k in kinds.values())} broken); {os.cpu_count()} cores; "
              f"{args.rounds} round(s)", flush=True)
        times: dict[str, list[float]] = {"plain": [], "pool": [], "cold": [], "dask": []}
        plain_each, results, cold_results = [], [], []
        for r in range(args.rounds):
            a = course_copy(template, tmp / f"plain{r}")
            print(f"round {r + 1}: plain nbgrader autograde (serial, no isolation) ...", flush=True)
            t_plain, each = plain_nbgrader(a, name, n)
            times["plain"].append(t_plain)
            plain_each += each
            for engine in ("pool", "cold", "dask"):
                b = course_copy(template, tmp / f"{engine}{r}")
                print(f"round {r + 1}: this pipeline, {engine} of {args.workers} workers, isolation on ...", flush=True)
                t, res = pipeline(b, name, args.workers, engine)
                times[engine].append(t)
                results = res if engine == "pool" else results
                cold_results = res if engine == "cold" else cold_results
                print(f"round {r + 1}: {engine} {t:.1f} s (load average {os.getloadavg()[0]:.1f}); "
                      f"{same_scores(a, b, name, kinds)} as plain nbgrader", flush=True)
                shutil.rmtree(b, ignore_errors=True)
            print(f"round {r + 1}: plain {t_plain:.1f} s", flush=True)
            shutil.rmtree(a, ignore_errors=True)
        one = {}
        if not args.no_overhead:
            print("overhead of Dask per task: one-worker pool, then one-worker Dask cluster ...", flush=True)
        for engine in () if args.no_overhead else ("pool", "dask"):
            c = course_copy(template, tmp / f"one-{engine}")
            one[engine], _ = pipeline(c, name, 1, engine)
            shutil.rmtree(c, ignore_errors=True)

        best = {k: min(v) for k, v in times.items()}
        rate = {k: 60 * n / t for k, t in best.items()}
        print(f"\nstatuses (pipeline): {dict(Counter(r.status for r in results))}")
        print(f"kernels started (pool): {dict(Counter(r.started for r in results))}")
        labels = {"plain": "plain nbgrader", "pool": f"pipeline, pool x{args.workers}",
                  "cold": "  same, cold starts", "dask": f"pipeline, Dask x{args.workers}"}
        for k in ("plain", "pool", "cold", "dask"):
            print(f"{labels[k]:<24}: {best[k]:7.1f} s  {rate[k]:6.1f} submissions/minute   (rounds: "
                  f"{', '.join(f'{t:.0f} s' for t in times[k])})")
        print(f"ratio pool / plain      : {rate['pool'] / rate['plain']:.2f}x  (target >= 4x on notebook 01, isolation on)")
        print(f"ratio cold / plain      : {rate['cold'] / rate['plain']:.2f}x  (every kernel a new interpreter)")
        print(f"ratio pool / cold       : {rate['pool'] / rate['cold']:.2f}x  (what the fork servers give)")
        print(f"ratio Dask / plain      : {rate['dask'] / rate['plain']:.2f}x")
        print(f"ratio Dask / pool       : {rate['dask'] / rate['pool']:.2f}x")
        if one:
            print(f"one worker: pool {one['pool']:.1f} s, Dask {one['dask']:.1f} s: Dask overhead "
                  f"{(one['dask'] - one['pool']) / n:+.2f} s per task (cluster start included)")
        for label, rs in (("warm", results), ("cold", cold_results)):
            print(f"median seconds per submission, by step (pool, {label} starts): "
                  + ", ".join(f"{k} {v:.2f}" for k, v in phase_medians(rs).items()))
        if plain_each:
            med = statistics.median(plain_each)
            stalls = [round(x) for x in plain_each if x > 10 * med]
            print(f"plain nbgrader, median submission: {med:.2f} s; stalls over 10x the median: {stalls or 'none'}")


if __name__ == "__main__":
    main()
