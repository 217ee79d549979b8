"""Grading throughput: plain ``nbgrader autograde`` against this course's pipeline, same run.

A class of 50 submissions of one course notebook (the first in source/ and
release/, else the grading tests' fixture notebook): correct ones (the
source's solutions in the released notebook), wrong ones (the released
stubs), broken ones (a syntax error, an exception at import). Both graders
get identical copies; the pipeline runs with isolation on and one worker per
core. Prints submissions per minute for both, the ratio (target: >= 1.7 on
2 cores), and checks that both gave every student the same score.

    ./run python benchmarks/grading_throughput.py [--students 50] [--workers N]
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
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "grading"))

from autograder import batch, isolate  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402


def pick_assignment(tmp: Path) -> tuple[Path, str]:
    """A course folder with one assignment: the first real one, else the fixture."""
    course = tmp / "template"
    names = [p.name for p in sorted((ROOT / "source").glob("*")) if (ROOT / "release" / p.name).is_dir()
             and list((ROOT / "source" / p.name).glob("*.ipynb"))]
    if names:
        name = names[0]
        for d in ("source", "release"):
            shutil.copytree(ROOT / d / name, course / d / name)
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
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=50)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--rounds", type=int, default=2,
                    help="alternate plain and pipeline this many times; the best time of each counts "
                         "(the machine may be shared: alternating exposes both to the same load)")
    args = ap.parse_args()
    n = args.students
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        template, name = pick_assignment(tmp)
        kinds = make_class(template, name, n)
        print(f"class: {n} submissions of {name} "
              f"({sum(k == 'correct' for k in kinds.values())} correct, {sum(k == 'wrong' for k in kinds.values())} "
              f"wrong, {sum(k == 'broken' for k in kinds.values())} broken); {os.cpu_count()} cores; "
              f"{args.rounds} round(s)", flush=True)
        plain_times, plain_each, our_times = [], [], []
        for r in range(args.rounds):
            a = course_copy(template, tmp / f"plain{r}")
            b = course_copy(template, tmp / f"pipeline{r}")
            print(f"round {r + 1}: plain nbgrader autograde (serial, no isolation) ...", flush=True)
            t_plain, each = plain_nbgrader(a, name, n)
            plain_times.append(t_plain)
            plain_each += each
            print(f"round {r + 1}: this pipeline ({args.workers} workers, isolation on) ...", flush=True)
            t0 = time.perf_counter()
            results, sandbox = batch.autograde(b, name, workers=args.workers, limits=isolate.Limits(), progress=True)
            our_times.append(time.perf_counter() - t0)
            secs = sorted(res["seconds"] for res in results)
            print(f"round {r + 1}: plain {t_plain:.1f} s, pipeline {our_times[-1]:.1f} s "
                  f"(pipeline per submission: median {statistics.median(secs):.2f} s, slowest {secs[-1]:.1f} s; "
                  f"load average {os.getloadavg()[0]:.1f})", flush=True)
            sa, sb = scores(a, name), scores(b, name)
            diff = {s: (sa.get(s), sb.get(s)) for s in kinds if sa.get(s) != sb.get(s)}
            print("  same score for every student in both gradebooks" if not diff
                  else f"  SCORES DIFFER for {len(diff)} students: {dict(list(diff.items())[:5])}", flush=True)
            shutil.rmtree(a, ignore_errors=True)
            shutil.rmtree(b, ignore_errors=True)

        t_plain, t_ours = min(plain_times), min(our_times)
        plain_rate, our_rate = 60 * n / t_plain, 60 * n / t_ours
        statuses: dict[str, int] = {}
        for res in results:
            statuses[res["status"]] = statuses.get(res["status"], 0) + 1
        print(f"\nisolation: {sandbox.summary()}")
        print(f"statuses (pipeline): {statuses}")
        print(f"plain nbgrader : {t_plain:7.1f} s  {plain_rate:6.1f} submissions/minute   (rounds: "
              f"{', '.join(f'{t:.0f} s' for t in plain_times)})")
        print(f"this pipeline  : {t_ours:7.1f} s  {our_rate:6.1f} submissions/minute   (rounds: "
              f"{', '.join(f'{t:.0f} s' for t in our_times)})")
        print(f"ratio          : {our_rate / plain_rate:.2f}x  (target >= 1.7x on 2 cores with isolation on)")
        if plain_each:
            med = statistics.median(plain_each)
            stalls = [round(x) for x in plain_each if x > 10 * med]
            print(f"plain nbgrader, median submission: {med:.2f} s; stalls over 10x the median: {stalls or 'none'}")
            if stalls:
                best = min(range(len(plain_times)), key=lambda i: plain_times[i])
                each_best = plain_each[best * n:(best + 1) * n]
                robust = t_plain - sum(x - med for x in each_best if x > 10 * med)
                print(f"ratio against plain nbgrader with its stalls replaced by its median: "
                      f"{(60 * n / t_ours) / (60 * n / robust):.2f}x")


if __name__ == "__main__":
    main()
