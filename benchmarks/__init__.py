"""Speed tables: dlbook against reference implementations and PyTorch, measured in one run.

Run ``python3 -m benchmarks`` (all suites) or ``python3 -m benchmarks conv lstm``; add
``--tiny`` for a seconds-long smoke run (the test suite does that so the harness cannot
rot). Each ``benchmarks/bench_<suite>.py`` exposes ``cases(tiny: bool) -> list[Case]``.
"""
