"""Timing and reporting shared by every benchmark suite.

A :class:`Case` is one workload with several implementations (zero-argument callables,
inputs already bound). Each is timed as the median of ``repeat`` calls after warm-up;
the table reports medians and the ratio of each implementation to the case's baseline
(PyTorch where it is installed). Ratios from one run are what we compare: this machine
is noisy (±30 % run to run), and a ratio cancels most of that.
"""

import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field


@dataclass
class Case:
    """One workload. ``impls`` maps a label ("dlbook", "numpy im2col", "torch") to a callable."""

    name: str
    impls: dict
    baseline: str = "torch"
    target: float | None = None  # the goal for dlbook / baseline, printed beside the ratio
    repeat: int = 15
    warmup: int = 2
    extra: dict = field(default_factory=dict)


def time_median(fn, repeat=15, warmup=2):
    """Median wall time of ``fn()`` in seconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def torch_or_none():
    """PyTorch if installed (CPU), else None. Benchmarks never require it."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def machine_line():
    import numba
    import numpy

    torch = torch_or_none()
    parts = [
        f"{platform.machine()} {platform.processor() or ''}".strip(),
        f"{os.cpu_count()} cores",
        f"python {platform.python_version()}",
        f"numpy {numpy.__version__}",
        f"numba {numba.__version__}",
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else "torch not installed",
    ]
    return ", ".join(parts)


def run_case(case):
    """Time every implementation of ``case``; return ``{label: seconds}``."""
    return {label: time_median(fn, case.repeat, case.warmup) for label, fn in case.impls.items()}


def format_table(rows, markdown=True):
    """rows: list of (case, {label: seconds}). Returns the table as text."""
    lines = ["| case | implementation | median (ms) | ratio to baseline | target |", "|---|---|---:|---:|---:|"]
    for case, times in rows:
        base = times.get(case.baseline)
        for label, sec in times.items():
            ratio = f"{sec / base:.2f}x" if base else "–"
            target = f"<= {case.target:g}x" if (case.target and label == "dlbook") else ""
            lines.append(f"| {case.name} | {label} | {sec * 1e3:.3f} | {ratio} | {target} |")
    return "\n".join(lines)


def run_all(cases, out=sys.stdout):
    rows = []
    for case in cases:
        rows.append((case, run_case(case)))
        print(f"  done: {case.name}", file=sys.stderr)
    print(f"Machine: {machine_line()}", file=out)
    print(format_table(rows), file=out)
    return rows
