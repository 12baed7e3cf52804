"""A derandomized hypothesis fuzz of the public API: odd shapes, dtypes, strides, NaN and bad input.

The rule every case checks: a call either returns what the plain reference returns, or raises a
ValueError or TypeError (with a message). Anything else — an IndexError, a numba TypingError, a
crash, a plausible wrong number — fails. ``derandomize=True`` makes every run draw the same cases,
so CI is repeatable; tiny shapes keep it to seconds.
"""

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dlbook import activations, conv, losses, pooling, rnn  # noqa: E402
from dlbook.layers import Affine, SoftmaxWithLoss  # noqa: E402
from dlbook.optim import SGD, Adam, Momentum  # noqa: E402

FUZZ = settings(max_examples=100, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CLEAR_ERRORS = (ValueError, TypeError)
DTYPES = st.sampled_from([np.float32, np.float64, np.int64, np.float16, ">f4", np.complex128, np.bool_])
SPECIALS = st.sampled_from([0.0, np.nan, np.inf, -np.inf, 1e30, -1e30])


def _array(draw, shape, dtype, specials=True):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    a = rng.standard_normal(shape)
    if specials and a.size and draw(st.booleans()):
        a.flat[draw(st.integers(0, a.size - 1))] = draw(SPECIALS)
    with np.errstate(invalid="ignore", over="ignore"):
        return a.astype(dtype)


def _tol(*arrays):
    """float32 (and float16, computed in float32) is compared loosely, float64 tightly."""
    return 1e-4 if any(np.asarray(a).dtype.itemsize <= 4 for a in arrays) else 1e-10


def _close(got, want, tol):
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)


def _is_real_float(dtype):
    return np.dtype(dtype).kind in "fiub" and np.dtype(dtype).kind != "c"


@FUZZ
@given(st.data())
def test_conv2d_matches_the_reference_or_says_why(data):
    N, C, K = (data.draw(st.integers(0, 3)) for _ in range(3))
    H, W, R, S = (data.draw(st.integers(1, 6)) for _ in range(4))
    stride = data.draw(st.sampled_from([1, 2, 3, (1, 2), 0, -1, 1.5]))
    pad = data.draw(st.sampled_from([0, 1, 2, (0, 1), -1]))
    dtype = data.draw(DTYPES)
    method = data.draw(st.sampled_from(["auto", "direct", "gemm"]))
    x = _array(data.draw, (N, C, H, W), dtype)
    w = _array(data.draw, (K, data.draw(st.sampled_from([C, C + 1])), R, S), dtype)
    try:
        y = conv.conv2d(x, w, stride=stride, pad=pad, method=method)
    except CLEAR_ERRORS as exc:
        assert str(exc)
        return
    _close(y, conv.conv2d_reference(x, w, stride=stride, pad=pad), _tol(x, w))
    dy = _array(data.draw, y.shape, y.dtype, specials=False)
    got = conv.conv2d_backward(dy, x, w, stride=stride, pad=pad, method=method)
    want = conv.conv2d_backward_reference(dy, x, w, stride=stride, pad=pad)
    if np.isfinite(x).all() and np.isfinite(w).all():
        for g, r in zip(got, want):
            _close(g, r, 10 * _tol(x, w))


@FUZZ
@given(st.data())
def test_pooling_matches_the_reference_or_says_why(data):
    N, C = data.draw(st.integers(0, 2)), data.draw(st.integers(1, 3))
    H, W = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    size = data.draw(st.sampled_from([1, 2, 3, (2, 1), 0]))
    stride = data.draw(st.sampled_from([None, 1, 2, 0]))
    dtype = data.draw(DTYPES)
    x = _array(data.draw, (N, C, H, W), dtype)
    for fwd, bwd, fref, bref in [
        (pooling.max_pool2d, pooling.max_pool2d_backward, pooling.max_pool2d_reference, pooling.max_pool2d_backward_reference),
        (pooling.avg_pool2d, pooling.avg_pool2d_backward, pooling.avg_pool2d_reference, pooling.avg_pool2d_backward_reference),
    ]:
        try:
            y = fwd(x, size, stride)
        except CLEAR_ERRORS as exc:
            assert str(exc)
            continue
        with np.errstate(invalid="ignore"):
            _close(y, fref(x, size, stride), _tol(y))
        dy = _array(data.draw, y.shape, y.dtype, specials=False)
        with np.errstate(invalid="ignore"):
            _close(bwd(dy, x, size, stride), bref(dy, x, size, stride), _tol(y))


@FUZZ
@given(st.data())
def test_softmax_cross_entropy_matches_log_softmax_or_says_why(data):
    N, Cn = data.draw(st.integers(0, 4)), data.draw(st.integers(0, 4))
    dtype = data.draw(DTYPES)
    x = _array(data.draw, (N, Cn), dtype)
    kind = data.draw(st.sampled_from(["labels", "onehot", "short", "float-labels"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    if kind == "labels":
        t = rng.integers(-1, Cn + 1, N) if Cn else np.zeros(N, int)
    elif kind == "onehot":
        t = np.eye(max(Cn, 1))[rng.integers(0, max(Cn, 1), N)][:, :Cn]
    elif kind == "short":
        t = np.zeros(max(N - 1, 0), int)
    else:
        t = rng.integers(0, max(Cn, 1), N).astype(float) + 0.5
    for fn in (losses.softmax_cross_entropy, lambda x, t: SoftmaxWithLoss().forward(x, t)):
        try:
            loss = fn(x, t)
        except CLEAR_ERRORS as exc:
            assert str(exc)
            continue
        t1 = t if t.shape == x.shape else np.eye(Cn)[t]
        with np.errstate(over="ignore"):
            want = -np.sum(t1 * losses.log_softmax(x.astype(np.float64))) / N
        _close(float(loss), want, _tol(x))


@FUZZ
@given(st.data())
def test_activations_never_crash(data):
    shape = data.draw(st.sampled_from([(), (0,), (3,), (2, 3), (1, 2, 2)]))
    dtype = data.draw(DTYPES)
    x = _array(data.draw, shape, dtype)
    for fn in (activations.sigmoid, activations.relu, activations.tanh, activations.step, activations.softmax,
               activations.sigmoid_grad, activations.relu_grad, activations.tanh_grad):
        try:
            y = fn(x)
        except CLEAR_ERRORS as exc:
            assert str(exc)
            continue
        assert np.shape(y) == np.shape(x)


@FUZZ
@given(st.data())
def test_affine_forward_backward_or_says_why(data):
    D, M, N = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    dtype = data.draw(DTYPES)
    W = _array(data.draw, (D, M), dtype, specials=False)
    layer_or_error = None
    try:
        layer_or_error = Affine(W, np.zeros(M))
    except CLEAR_ERRORS as exc:
        assert str(exc) and not _is_real_float(dtype)
        return
    x = _array(data.draw, (N, data.draw(st.sampled_from([D, D + 1]))), data.draw(DTYPES), specials=False)
    try:
        y = layer_or_error.forward(x)
        dout = _array(data.draw, data.draw(st.sampled_from([y.shape, (N + 1, M)])), data.draw(DTYPES), specials=False)
        dx = layer_or_error.backward(dout)
    except CLEAR_ERRORS as exc:
        assert str(exc)
        return
    Wf = layer_or_error.params["W"].astype(np.float64)
    _close(y, x.astype(np.float64) @ Wf, _tol(y))
    _close(dx, dout.astype(np.float64) @ Wf.T, _tol(y))


@FUZZ
@given(st.data())
def test_optimizers_update_exactly_or_change_nothing(data):
    cls = data.draw(st.sampled_from([SGD, Momentum, Adam]))
    dtype, gdtype = data.draw(DTYPES), data.draw(DTYPES)
    shape = data.draw(st.sampled_from([(3,), (2, 2)]))
    p = _array(data.draw, shape, dtype, specials=False)
    g = _array(data.draw, data.draw(st.sampled_from([shape, (4,)])), gdtype, specials=False)
    before = p.copy()
    opt = cls(0.1)
    try:
        opt.update({"w": p, "v": np.ones(2)}, {"w": g, "v": np.ones(2)})
    except CLEAR_ERRORS as exc:
        assert str(exc)
        np.testing.assert_array_equal(p, before)  # atomic: nothing changed
        return
    if cls is SGD:
        _close(p, before - 0.1 * g.astype(p.dtype), _tol(p))


@FUZZ
@given(st.data())
def test_lstm_forward_matches_the_reference_or_says_why(data):
    N, T, D, H = (data.draw(st.integers(0, 3)) for _ in range(4))
    dtype = data.draw(DTYPES)
    arrays = [_array(data.draw, s, dtype, specials=False) * 0.5
              for s in [(N, T, D), (N, H), (N, H), (D, 4 * H), (H, data.draw(st.sampled_from([4 * H, 4 * H + 1]))), (4 * H,)]]
    try:
        h, c, _ = rnn.lstm_forward(*arrays)
    except CLEAR_ERRORS as exc:
        assert str(exc)
        return
    hr, cr, _ = rnn.lstm_forward_reference(*arrays)
    _close(h, hr, 1e-5 if h.dtype == np.float32 else 1e-10)
    _close(c, cr, 1e-5 if h.dtype == np.float32 else 1e-10)
