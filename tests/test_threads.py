"""Thread safety: four threads calling the kernels at once get the single-threaded answers.

The GEMM convolution once kept one module-level scratch buffer, so concurrent calls overwrote
each other's columns (wrong results in 9 of 16 calls, and once another thread's output).
Workspaces are now per calling thread; these tests would catch a shared one again.
"""

import threading

import numpy as np
import pytest

from dlbook.conv import conv2d, conv2d_backward
from dlbook.pooling import max_pool2d
from dlbook.rnn import lstm_forward, rnn_forward

THREADS = 4
CALLS_PER_THREAD = 4


def _run_concurrently(fn, inputs):
    """Call ``fn(*inputs[i])`` from one thread per input, all released at once; return the results."""
    results = [[None] * CALLS_PER_THREAD for _ in inputs]
    errors = []
    barrier = threading.Barrier(len(inputs))

    def work(i):
        try:
            barrier.wait()
            for k in range(CALLS_PER_THREAD):
                results[i][k] = fn(*inputs[i])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def _assert_same(results, expected):
    """Equal up to float32 rounding. BLAS may block a product differently in another thread (seen:
    8 ulps in dw), while a shared workspace gave errors of the size of the values (up to 557)."""
    for i, per_thread in enumerate(results):
        for k, got in enumerate(per_thread):
            for g, e in zip(got if isinstance(got, tuple) else (got,), expected[i] if isinstance(expected[i], tuple) else (expected[i],)):
                np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(e).max())),
                                           err_msg=f"thread {i}, call {k}")


@pytest.fixture(scope="module")
def conv_inputs():
    """Four different (x, w) pairs on the GEMM path: 8x64x16x16 input, 64@3x3 filters, pad 1."""
    rng = np.random.default_rng(0)
    return [
        (rng.standard_normal((8, 64, 16, 16)).astype(np.float32), rng.standard_normal((64, 64, 3, 3)).astype(np.float32))
        for _ in range(THREADS)
    ]


def test_conv2d_gemm_from_four_threads(conv_inputs):
    def fn(x, w):
        return conv2d(x, w, pad=1, method="gemm")

    expected = [fn(*args) for args in conv_inputs]
    _assert_same(_run_concurrently(fn, conv_inputs), expected)


def test_conv2d_backward_gemm_from_four_threads(conv_inputs):
    rng = np.random.default_rng(1)
    inputs = [(rng.standard_normal((8, 64, 16, 16)).astype(np.float32), x, w) for x, w in conv_inputs]

    def fn(dy, x, w):
        return conv2d_backward(dy, x, w, pad=1, method="gemm")

    expected = [fn(*args) for args in inputs]
    _assert_same(_run_concurrently(fn, inputs), expected)


def test_conv2d_strided_gemm_and_pooling_from_four_threads(conv_inputs):
    def fn(x, w):
        return conv2d(x, w, stride=2, pad=1, method="gemm"), max_pool2d(x, 2)

    expected = [fn(*args) for args in conv_inputs]
    _assert_same(_run_concurrently(fn, conv_inputs), expected)


def test_lstm_and_rnn_forward_from_four_threads():
    rng = np.random.default_rng(2)
    N, T, D, H = 4, 6, 5, 8
    inputs = [
        (rng.standard_normal((N, T, D)).astype(np.float32), rng.standard_normal((D, 4 * H)).astype(np.float32) * 0.3,
         rng.standard_normal((H, 4 * H)).astype(np.float32) * 0.3, rng.standard_normal((D, H)).astype(np.float32) * 0.3,
         rng.standard_normal((H, H)).astype(np.float32) * 0.3)
        for _ in range(THREADS)
    ]

    def fn(x, Wx, Wh, Wx1, Wh1):
        h, c, _ = lstm_forward(x, np.zeros((N, H), np.float32), np.zeros((N, H), np.float32), Wx, Wh, np.zeros(4 * H, np.float32))
        hr, _ = rnn_forward(x, np.zeros((N, H), np.float32), Wx1, Wh1, np.zeros(H, np.float32))
        return np.array(h), np.array(c), np.array(hr)

    expected = [fn(*args) for args in inputs]
    _assert_same(_run_concurrently(fn, inputs), expected)
