"""The benchmark harness runs on tiny sizes, so the speed tables of the book cannot rot."""

import pytest

from benchmarks.__main__ import available_suites, main


@pytest.mark.parametrize("suite", available_suites())
def test_suite_runs_tiny(suite, tmp_path):
    out = tmp_path / f"{suite}.md"
    assert main([suite, "--tiny", "--markdown", str(out)]) == 0
    table = out.read_text(encoding="utf-8")
    assert table.startswith("Measured on:") and "| case | implementation | median (ms)" in table
    assert "| dlbook |" in table


def test_conv_suite_has_the_issue_cases():
    from benchmarks.bench_conv import cases

    names = [c.name for c in cases(tiny=False)]
    for want in ("64x1x28x28, 6@5x5", "fwd 16x64x32x32, 64@3x3 pad 1", "fwd+bwd 16x64x32x32",
                 "max-pool 2x2 fwd+bwd 16x64x32x32", "SimpleConvNet SGD step, batch 100"):
        assert any(want in n for n in names), want
    if any("torch" in c.impls for c in cases(tiny=True)):  # targets are ratios to torch
        targets = {c.name: c.target for c in cases(tiny=False)}
        assert targets["conv fwd 64x1x28x28, 6@5x5"] == 0.5


def test_unknown_suite_is_an_error():
    with pytest.raises(SystemExit):
        main(["no-such-suite", "--tiny"])
