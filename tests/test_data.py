"""Bundled data sets: shapes, dtypes, ranges, stratified deterministic split."""

import numpy as np
import pytest

from dlbook.data import load_digits, one_hot, xor


def test_load_digits():
    pytest.importorskip("sklearn")
    xtr, ttr, xte, tte = load_digits()
    assert xtr.shape[1] == 64 and xtr.dtype == np.float32 and len(xtr) + len(xte) == 1797
    assert 0 <= xtr.min() and xtr.max() <= 1
    assert len(xte) == pytest.approx(0.25 * 1797, abs=10)
    assert set(np.unique(tte)) == set(range(10))
    again = load_digits()
    assert np.array_equal(again[1], ttr)
    img = load_digits(flat=False)[0]
    assert img.shape[1:] == (1, 8, 8)
    with pytest.raises(ValueError, match="test_size"):
        load_digits(test_size=1.5)


def test_xor_and_one_hot():
    x, t = xor()
    assert x.shape == (4, 2) and list(t) == [0, 1, 1, 0]
    np.testing.assert_array_equal(one_hot(np.array([1, 0]), 3), [[0, 1, 0], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        one_hot(np.array([0, 2]), 2)
