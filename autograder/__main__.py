"""``python -m autograder <command>``: the instructor's tool."""
from __future__ import annotations

import argparse
import sys

from . import release


def cmd_release(args: argparse.Namespace) -> int:
    names = args.assignments or release.assignments()
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./run grade", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="regenerate release/ from source/ and check it")
    p.add_argument("assignments", nargs="*", help="assignment folders (default: all)")
    p.add_argument("--no-check", action="store_true", help="only regenerate")
    p.set_defaults(func=cmd_release)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
