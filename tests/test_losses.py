"""Losses against independent formulas, dtypes, huge logits, and bad input."""

import numpy as np
import pytest

from dlbook.activations import softmax
from dlbook.losses import cross_entropy_error, log_softmax, mean_squared_error, softmax_cross_entropy


def test_mse_is_mean_over_all_elements():
    rng = np.random.default_rng(0)
    y, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert mean_squared_error(y, t) == pytest.approx(((y - t) ** 2).sum() / 12)
    assert mean_squared_error([1.0, 2.0], [1.0, 4.0]) == pytest.approx(2.0)
    y32 = y.astype(np.float32)
    assert mean_squared_error(y32, t.astype(np.float32)).dtype == np.float32


def test_cross_entropy_onehot_labels_single_sample():
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    t = np.eye(10)[2]
    assert cross_entropy_error(y, t) == pytest.approx(-np.log(0.6))
    assert cross_entropy_error(y, 2) == pytest.approx(-np.log(0.6))
    Y = np.stack([y, np.roll(y, 1)])
    assert cross_entropy_error(Y, np.array([2, 3])) == pytest.approx(-np.log(0.6))
    assert cross_entropy_error(Y, np.eye(10)[[2, 8]]) == pytest.approx((-np.log(0.6) - np.log(0.1)) / 2)
    assert np.isfinite(cross_entropy_error(y, 3))  # p = 0 stays finite


def test_softmax_cross_entropy_matches_naive_and_is_stable():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4))
    t = rng.integers(0, 4, 5)
    naive = -np.mean(np.log(softmax(x)[np.arange(5), t]))
    assert softmax_cross_entropy(x, t) == pytest.approx(naive, rel=1e-12)
    assert softmax_cross_entropy(x, np.eye(4)[t]) == pytest.approx(naive, rel=1e-12)
    big = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]])
    loss = softmax_cross_entropy(big, np.array([0, 0]))
    assert np.isfinite(loss) and loss == pytest.approx(1e4)  # (0 + 2e4) / 2
    assert softmax_cross_entropy(big.astype(np.float32), np.array([1, 1])).dtype == np.float32
    np.testing.assert_allclose(log_softmax(x), np.log(softmax(x)), rtol=1e-12)


@pytest.mark.parametrize(
    "func, y, t, match",
    [
        (mean_squared_error, np.zeros((2, 3)), np.zeros((3, 2)), r"shape"),
        (mean_squared_error, np.array([np.nan]), np.zeros(1), "finite"),
        (cross_entropy_error, np.full((2, 3), 1 / 3), np.array([0, 3]), r"\[0, 3\)"),
        (cross_entropy_error, np.full((2, 3), 1 / 3), np.zeros((2, 4)), r"shape \(2, 3\)"),
        (cross_entropy_error, np.array([0.5, -0.1, 0.6]), 0, ">= 0"),
        (softmax_cross_entropy, np.zeros((2, 3)), np.array([0, -1]), r"\[0, 3\)"),
        (softmax_cross_entropy, np.array([[0.0, np.nan]]), np.array([0]), "finite"),
        (softmax_cross_entropy, np.zeros((2, 3)), np.array([0.5, 1.0]), "integer"),
        (softmax_cross_entropy, np.zeros((2, 3, 4)), np.array([0, 1]), r"\(N, C\)"),
    ],
)
def test_bad_input(func, y, t, match):
    with pytest.raises(ValueError, match=match):
        func(y, t)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (7, 10), (64, 3)])
def test_numba_kernel_agrees_with_reference(shape, dtype):
    from dlbook.losses import log_softmax_xent, log_softmax_xent_reference

    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    labels = rng.integers(0, shape[1], shape[0])
    soft = rng.random(shape).astype(dtype)
    soft /= soft.sum(1, keepdims=True)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for kind, t in (("labels", labels), ("onehot", soft)):
        loss, y = log_softmax_xent(x, kind, t)
        ref_loss, ref_y = log_softmax_xent_reference(x, kind, t)
        assert y.dtype == dtype
        assert loss == pytest.approx(ref_loss, rel=tol, abs=tol)
        np.testing.assert_allclose(y, ref_y, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (7, 10)])
def test_backward_kernel_agrees_with_reference(shape, dtype):
    from dlbook.losses import softmax_xent_backward, softmax_xent_backward_reference

    rng = np.random.default_rng(sum(shape) + 1)
    y = rng.random(shape).astype(dtype)
    y /= y.sum(1, keepdims=True)
    t = rng.integers(0, shape[1], shape[0])
    y0 = y.copy()
    fast = softmax_xent_backward(y, "labels", t, 0.25)
    ref = softmax_xent_backward_reference(y, "labels", t, 0.25)
    assert fast.dtype == dtype and np.array_equal(y, y0)
    np.testing.assert_allclose(fast, ref, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("bad", [-1, 3, 10**12])
def test_softmax_xent_backward_refuses_labels_out_of_range(bad, contiguous):
    """The kernel indexes a row with each label: one outside [0, C) is an error, never a write."""
    from dlbook.losses import softmax_xent_backward

    y = np.full((2, 3), 1 / 3)
    if not contiguous:
        y = np.asfortranarray(y)
    with pytest.raises(ValueError, match=r"labels in \[0, 3\)"):
        softmax_xent_backward(y, "labels", np.array([0, bad]), 0.5)
