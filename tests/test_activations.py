"""dlbook.activations against plain NumPy formulas (book page: docs/02-networks/activations.md).

- every numba kernel agrees with its REFERENCE formula on random shapes (odd sizes too),
  in float32 and float64, and returns the input's shape and dtype;
- the REFERENCE formulas themselves agree with independent oracles (math module, scipy);
- derivatives agree with central differences in float64 (relative error, h=1e-5);
- softmax: the course's example, stability on huge inputs, axis handling;
- non-numeric input raises ValueError.
"""

import math
import warnings

import numpy as np
import pytest

from dlbook import activations as A

ELEMENTWISE = ["step", "sigmoid", "tanh", "relu", "sigmoid_grad", "tanh_grad", "relu_grad"]
ALL = ELEMENTWISE + ["softmax"]
DTYPES = [np.float32, np.float64]
SHAPES = [(1,), (7,), (3, 5), (2, 3, 5), (4, 1, 3, 2), (33,)]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


def _random(shape, dtype, seed=0, scale=4.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


# ---------------------------------------------------------------- kernels vs REFERENCE

@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_kernel_matches_reference(name, dtype, shape):
    x = _random(shape, dtype, seed=len(shape) * 10 + shape[-1])
    out = getattr(A, name)(x)
    assert isinstance(out, np.ndarray)
    assert out.shape == x.shape
    assert out.dtype == dtype
    with np.errstate(over="ignore"):
        ref = A.REFERENCE[name](x.astype(np.float64))
    np.testing.assert_allclose(out, ref, **TOL[dtype])


@pytest.mark.parametrize("name", ALL)
def test_reference_covers_every_function(name):
    assert name in A.REFERENCE and name in A.__all__


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_and_zero_size_input(name, dtype):
    x = _random((6, 8), dtype)[:, ::3]
    assert not x.flags.c_contiguous
    np.testing.assert_allclose(getattr(A, name)(x), A.REFERENCE[name](x.astype(np.float64)), **TOL[dtype])
    empty = np.zeros((0, 3), dtype=dtype)
    out = getattr(A, name)(empty)
    assert out.shape == (0, 3) and out.dtype == dtype


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_integer_bool_and_list_input_become_float64(name):
    f = getattr(A, name)
    for x in ([-2, 0, 3], np.array([-2, 0, 3], dtype=np.int32), np.array([True, False])):
        out = f(x)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, A.REFERENCE[name](np.asarray(x, dtype=np.float64)), rtol=1e-12)


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", DTYPES)
def test_scalar_input_keeps_dtype(name, dtype):
    out = getattr(A, name)(dtype(0.5))
    assert np.ndim(out) == 0 and np.asarray(out).dtype == dtype


# ---------------------------------------------------------------- REFERENCE vs independent oracles

def test_reference_formulas_agree_with_independent_oracles():
    xs = np.linspace(-8, 8, 41)
    sig = np.array([1 / (1 + math.exp(-v)) for v in xs])
    np.testing.assert_allclose(A.REFERENCE["sigmoid"](xs), sig, rtol=1e-13)
    np.testing.assert_allclose(A.REFERENCE["tanh"](xs), [math.tanh(v) for v in xs], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(A.REFERENCE["sigmoid_grad"](xs), sig * (1 - sig), rtol=1e-12)
    np.testing.assert_array_equal(A.REFERENCE["relu"](xs), [max(v, 0.0) for v in xs])
    np.testing.assert_array_equal(A.REFERENCE["step"](xs), [1.0 if v >= 0 else 0.0 for v in xs])
    special = pytest.importorskip("scipy.special")
    v = np.random.default_rng(1).standard_normal((4, 5))
    np.testing.assert_allclose(A.softmax(v), special.softmax(v, axis=-1), rtol=1e-13)
    np.testing.assert_allclose(A.softmax(v, axis=0), special.softmax(v, axis=0), rtol=1e-13)
    np.testing.assert_allclose(A.sigmoid(v), special.expit(v), rtol=1e-13)


def test_values_at_and_around_zero():
    x = np.array([-1.0, -0.0, 0.0, 1e-300, 1.0])
    np.testing.assert_array_equal(A.step(x), [0, 1, 1, 1, 1])  # step(0) = 1, as in the course
    np.testing.assert_array_equal(A.relu(x), [0, 0, 0, 1e-300, 1])
    np.testing.assert_array_equal(A.relu_grad(x), [0, 0, 0, 1, 1])  # relu'(0) taken as 0
    assert A.sigmoid(0.0) == 0.5 and A.sigmoid_grad(0.0) == 0.25
    assert A.tanh(0.0) == 0.0 and A.tanh_grad(0.0) == 1.0


def test_relu_passes_nan_through_like_np_maximum():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = A.relu(np.array([np.nan, -1.0, 2.0]))
    np.testing.assert_array_equal(out, np.maximum([np.nan, -1.0, 2.0], 0))


# ---------------------------------------------------------------- derivatives

def _central_difference(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("fn, grad", [("sigmoid", "sigmoid_grad"), ("tanh", "tanh_grad"), ("relu", "relu_grad")])
def test_derivatives_match_central_differences(fn, grad):
    x = _random((5, 7), np.float64, seed=3, scale=2.0)
    # away from ReLU's kink at 0, and from the flat tails where the difference quotient
    # of a tiny slope is all rounding error
    x = x[(np.abs(x) > 1e-3) & (np.abs(x) < 3)]
    numeric = _central_difference(getattr(A, fn), x)
    analytic = getattr(A, grad)(x)
    rel = np.abs(numeric - analytic) / np.maximum(1e-12, np.abs(numeric) + np.abs(analytic))
    assert rel.max() < 1e-7, rel.max()


def test_derivative_check_can_fail():
    """The same check rejects a wrong derivative (tanh' mistaken for sigmoid')."""
    x = np.linspace(-2, 2, 9)
    numeric = _central_difference(A.tanh, x)
    wrong = A.sigmoid_grad(x)
    rel = np.abs(numeric - wrong) / np.maximum(1e-12, np.abs(numeric) + np.abs(wrong))
    assert rel.max() > 1e-2


def test_sigmoid_grad_is_s_times_one_minus_s_and_peaks_at_quarter():
    x = np.linspace(-6, 6, 121)
    s = A.sigmoid(x)
    np.testing.assert_allclose(A.sigmoid_grad(x), s * (1 - s), rtol=1e-12)
    assert A.sigmoid_grad(x).max() == 0.25
    np.testing.assert_allclose(A.tanh_grad(x), 1 - np.tanh(x) ** 2, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- no overflow on large input

@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_and_tanh_do_not_overflow(dtype):
    x = np.array([-1e4, -1000, -100, 0, 100, 1000, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ["sigmoid", "sigmoid_grad", "tanh", "tanh_grad"]:
            out = getattr(A, name)(x)
            assert out.dtype == dtype and np.all(np.isfinite(out)), (name, out)
    s = A.sigmoid(x)
    assert s[0] == 0 and s[-1] == 1 and s[3] == 0.5
    np.testing.assert_array_equal(A.tanh(x)[[0, -1]], [-1, 1])


# ---------------------------------------------------------------- softmax

def test_softmax_course_example():
    s = A.softmax([1.2, 4.0, 0.2])
    np.testing.assert_array_equal(np.round(s, 3), [0.056, 0.923, 0.021])
    assert math.isclose(s.sum(), 1.0, rel_tol=1e-15)
    # the course's intermediate numbers: e^1.2 ~ 3.32, e^4 ~ 54.60 (printed 54.58), e^0.2 ~ 1.22
    np.testing.assert_allclose(np.exp([1.2, 4.0, 0.2]), [3.32, 54.6, 1.22], atol=0.005)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_is_stable_for_huge_inputs(dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = A.softmax(np.array([1000, 1001, 1002], dtype=dtype))
        small = A.softmax(np.array([-1000, -1001, -1002], dtype=dtype))
        extreme = A.softmax(np.array([-1e300, 0.0, 1e300]))
        widest = A.softmax(np.array([-np.finfo(dtype).max, 0, np.finfo(dtype).max], dtype=dtype))
    assert big.dtype == dtype
    np.testing.assert_allclose(big, A.softmax(np.array([0, 1, 2], dtype=dtype)), rtol=1e-6)
    np.testing.assert_allclose(big, [0.09003057, 0.24472847, 0.66524096], rtol=1e-6)
    np.testing.assert_allclose(small, big[::-1], rtol=1e-6)
    np.testing.assert_array_equal(extreme, [0, 0, 1])
    assert widest.dtype == dtype
    np.testing.assert_array_equal(widest, [0, 0, 1])


def test_naive_softmax_overflows_where_dlbook_does_not():
    """What the stable version guards against: the textbook formula gives nan here."""
    x = np.array([1000.0, 1001.0, 1002.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = A.REFERENCE["softmax"](x)
    assert np.all(np.isnan(naive))
    assert np.all(np.isfinite(A.softmax(x)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, axis", [((4, 5), -1), ((4, 5), 0), ((4, 5), 1), ((2, 3, 5), 1), ((2, 3, 5), -3), ((7,), 0)])
def test_softmax_axis(dtype, shape, axis):
    x = _random(shape, dtype, seed=5)
    out = A.softmax(x, axis=axis)
    assert out.shape == shape and out.dtype == dtype
    np.testing.assert_allclose(out.sum(axis=axis), 1.0, rtol=1e-5 if dtype == np.float32 else 1e-12)
    moved = np.moveaxis(x.astype(np.float64), axis, -1)
    ref = np.moveaxis(A.REFERENCE["softmax"](moved), -1, axis)
    np.testing.assert_allclose(out, ref, **TOL[dtype])


def test_softmax_default_axis_is_last_and_rows_are_independent():
    x = np.array([[1.2, 4.0, 0.2], [1000.0, 1001.0, 1002.0]])
    out = A.softmax(x)
    np.testing.assert_allclose(out[0], A.softmax(x[0]))
    np.testing.assert_allclose(out[1], A.softmax(x[1] - 1000))
    np.testing.assert_allclose(A.softmax(x + 7.5), out, rtol=1e-12)  # shift invariance


@pytest.mark.parametrize("axis", [2, -3, 1.0, "0", None, True])
def test_softmax_bad_axis(axis):
    with pytest.raises(ValueError, match="axis"):
        A.softmax(np.zeros((2, 3)), axis=axis)


def test_softmax_rejects_scalars_and_empty_axes():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        A.softmax(3.0)
    with pytest.raises(ValueError, match=r"\(2, 0\)"):
        A.softmax(np.zeros((2, 0)))


# ---------------------------------------------------------------- bad input

BAD = {
    "string": "abc",
    "string array": np.array(["1.0", "2.0"]),
    "object array": np.array([1.0, 2.0], dtype=object),
    "complex": np.array([1 + 2j, 0j]),
    "complex scalar": 1j,
    "ragged list": [1.0, [2.0, 3.0]],
    "None": None,
    "dict": {"a": 1},
}


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("bad", list(BAD), ids=list(BAD))
def test_non_numeric_input_raises_value_error(name, bad):
    with pytest.raises(ValueError, match="expected"):
        getattr(A, name)(BAD[bad])


def test_lazy_ufuncs_keep_each_dtype_apart_in_one_process():
    """The compiled-ufunc cache is keyed by dtype: float32, float64, float32 again each get their own loop."""
    from dlbook._lazy import lazy_vectorize

    @lazy_vectorize()
    def halve(x):
        return x / 3

    for dtype in (np.float32, np.float64, np.float32, np.float64):
        x = np.array([1.0, 2.0], dtype)
        y = halve(x)
        assert y.dtype == dtype
        np.testing.assert_array_equal(y, x / dtype(3))
    assert len(halve._by_signature) == 2
