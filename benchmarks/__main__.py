"""``python3 -m benchmarks [suite ...] [--tiny] [--markdown FILE]``: print the speed tables."""

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from .harness import machine_line, run_all, format_table


def available_suites():
    here = Path(__file__).parent
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m benchmarks", description=__doc__)
    parser.add_argument("suites", nargs="*", help=f"suites to run (default: all of {available_suites()})")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes, a few repeats: a smoke run")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table to FILE")
    args = parser.parse_args(argv)
    suites = args.suites or available_suites()
    unknown = sorted(set(suites) - set(available_suites()))
    if unknown:
        parser.error(f"unknown suite(s) {unknown}; available: {available_suites()}")
    cases = []
    for name in suites:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        cases.extend(module.cases(tiny=args.tiny))
    if args.tiny:
        for case in cases:
            case.repeat, case.warmup = 2, 1
    rows = run_all(cases)
    if args.markdown:
        Path(args.markdown).write_text(f"Measured on: {machine_line()}\n\n{format_table(rows)}\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
