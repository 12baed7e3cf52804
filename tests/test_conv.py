"""dlbook.conv: fast kernels against the plain-loop references, gradients, the course's numbers, bad input."""

import numpy as np
import pytest

from dlbook import conv as C
from dlbook import pooling as P
from dlbook.conv import _direct, _gemm, col2im, conv2d, conv2d_backward, conv_output_size, im2col
from dlbook.conv._common import check_conv
from dlbook.pooling import _kernels as pool_kernels
from dlbook.pooling import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward

from dlbook.gradcheck import numerical_gradient, rel_error


def num_grad(f, a, h=1e-5):
    """Central differences of the scalar ``f()`` w.r.t. every entry of ``a`` (perturbed in place, restored)."""
    return numerical_gradient(lambda _: f(), a, h)


DTYPES = [np.float32, np.float64]
# (N, C, H, W, K, R, S, stride, pad): odd sizes, non-square inputs and kernels, stride > 1, pad > 0,
# shapes where the floor drops rows/columns, (h, w) pairs.
CONV_CASES = [
    (2, 3, 7, 9, 4, 3, 2, 1, 0),
    (2, 3, 7, 9, 4, 3, 2, 2, 1),
    (1, 2, 6, 5, 3, 3, 3, (2, 1), (1, 2)),
    (2, 5, 8, 11, 9, 5, 3, 3, 2),
    (3, 1, 4, 4, 2, 4, 4, 1, 0),
    (1, 4, 5, 5, 2, 1, 1, 2, 0),
    (2, 16, 6, 7, 8, 3, 3, 1, 1),
    (2, 3, 6, 9, 2, 2, 4, 1, (1, 2)),
]
TOL = {np.float32: 2e-4, np.float64: 1e-11}


def _conv_data(case, dtype, seed=0):
    N, Ci, H, W, K, R, S, stride, pad = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, Ci, H, W)).astype(dtype)
    w = rng.standard_normal((K, Ci, R, S)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    return x, w, b, stride, pad


# ----------------------------------------------------------------------------- agreement


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_fast_paths_match_reference(case, dtype):
    x, w, b, stride, pad = _conv_data(case, dtype)
    ref = C.conv2d_reference(x, w, b, stride=stride, pad=pad)
    scale = np.abs(ref).max()
    for method in ("auto", "direct", "gemm"):
        y = conv2d(x, w, b, stride=stride, pad=pad, method=method)
        assert y.dtype == dtype and y.shape == ref.shape
        np.testing.assert_allclose(y, ref, rtol=0, atol=TOL[dtype] * scale)
    np.testing.assert_allclose(C.conv2d_im2col(x, w, b, stride, pad), ref, rtol=0, atol=TOL[dtype] * scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_backward_fast_paths_match_reference(case, dtype):
    x, w, _, stride, pad = _conv_data(case, dtype)
    y = C.conv2d_reference(x, w, stride=stride, pad=pad)
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    ref = C.conv2d_backward_reference(dy, x, w, stride=stride, pad=pad)
    for method in ("direct", "gemm"):
        got = conv2d_backward(dy, x, w, stride=stride, pad=pad, method=method)
        for name, g, r in zip(("dx", "dw", "db"), got, ref):
            assert g.dtype == dtype and g.shape == r.shape, name
            np.testing.assert_allclose(g, r, rtol=0, atol=TOL[dtype] * max(1.0, np.abs(r).max()), err_msg=name)


def test_conv2d_backward_can_skip_dx():
    x, w, _, stride, pad = _conv_data(CONV_CASES[-1], np.float64)
    dy = np.ones(conv2d(x, w, stride=stride, pad=pad).shape)
    for method in ("direct", "gemm"):
        dx, dw, db = conv2d_backward(dy, x, w, stride=stride, pad=pad, method=method, need_dx=False)
        assert dx is None
        np.testing.assert_allclose(dw, C.conv2d_backward_reference(dy, x, w, stride, pad)[1])


def test_conv2d_matches_torch():
    torch = pytest.importorskip("torch")
    for case in CONV_CASES:
        x, w, b, stride, pad = _conv_data(case, np.float64)
        want = torch.nn.functional.conv2d(
            torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride=stride, padding=pad
        ).numpy()
        np.testing.assert_allclose(conv2d(x, w, b, stride=stride, pad=pad), want, atol=1e-10)


POOL_CASES = [(2, None), (3, 2), (2, 1), ((2, 3), (1, 2)), (3, None), (1, 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size,stride", POOL_CASES)
def test_pooling_matches_reference(size, stride, dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 8)).astype(dtype)
    x[0, 0, :2, :2] = 1.0  # a tie: the gradient must go to the first maximum
    for fwd, fwd_ref, bwd, bwd_ref in (
        (max_pool2d, P.max_pool2d_reference, max_pool2d_backward, P.max_pool2d_backward_reference),
        (avg_pool2d, P.avg_pool2d_reference, avg_pool2d_backward, P.avg_pool2d_backward_reference),
    ):
        y = fwd(x, size, stride)
        assert y.dtype == dtype
        np.testing.assert_allclose(y, fwd_ref(x, size, stride), rtol=1e-5, atol=1e-6)
        dy = rng.standard_normal(y.shape).astype(dtype)
        dx = bwd(dy, x, size, stride)
        assert dx.dtype == dtype and dx.shape == x.shape
        np.testing.assert_allclose(dx, bwd_ref(dy, x, size, stride), rtol=1e-5, atol=1e-6)


def test_pooling_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 3, 9, 10))
    tx = torch.from_numpy(x)
    for size, stride in ((2, None), (3, 2), (2, 1)):
        s = stride or size
        np.testing.assert_allclose(max_pool2d(x, size, stride), torch.nn.functional.max_pool2d(tx, size, s).numpy())
        np.testing.assert_allclose(avg_pool2d(x, size, stride), torch.nn.functional.avg_pool2d(tx, size, s).numpy())


def test_max_pool_tie_goes_to_first_maximum():
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    dx = max_pool2d_backward(np.array([[[[5.0]]]]), x)
    assert dx[0, 0].tolist() == [[0.0, 5.0], [0.0, 0.0]]
    # overlapping windows (3x3, stride 2) share the centre column: both gradients land there and add up
    x = np.zeros((1, 1, 3, 5))
    x[0, 0, 1, 2] = 9.0
    dx = max_pool2d_backward(np.array([[[[1.0, 2.0]]]]), x, size=3, stride=2)
    assert dx[0, 0, 1, 2] == 3.0 and dx.sum() == 3.0


# ----------------------------------------------------------------------------- gradient checks (float64)


@pytest.mark.parametrize("case", [CONV_CASES[1], CONV_CASES[2], CONV_CASES[3]])
@pytest.mark.parametrize("method", ["direct", "gemm"])
def test_conv2d_gradient_check(case, method):
    x, w, b, stride, pad = _conv_data(case, np.float64, seed=4)
    x, w = x[:1, :, :6, :7].copy(), w[:3].copy()
    b = b[:3].copy()
    dy = np.random.default_rng(5).standard_normal(conv2d(x, w, b, stride, pad).shape)

    def f():
        return float(np.sum(conv2d(x, w, b, stride=stride, pad=pad, method=method) * dy))

    dx, dw, db = conv2d_backward(dy, x, w, stride=stride, pad=pad, method=method)
    assert rel_error(dx, num_grad(f, x)) <= 1e-7
    assert rel_error(dw, num_grad(f, w)) <= 1e-7
    assert rel_error(db, num_grad(f, b)) <= 1e-7


@pytest.mark.parametrize("size,stride", [(2, None), (3, 2), (2, 1)])
def test_pool_gradient_check(size, stride):
    rng = np.random.default_rng(6)
    # distinct values 0.01 apart: no ties, and h = 1e-5 never changes which entry is the maximum;
    # centred near 0 so the rounding error of the summed loss stays small
    x = (rng.permutation(2 * 2 * 6 * 7).reshape(2, 2, 6, 7) - 84.0) * 0.01
    for fwd, bwd in ((max_pool2d, max_pool2d_backward), (avg_pool2d, avg_pool2d_backward)):
        dy = rng.uniform(0.5, 1.5, fwd(x, size, stride).shape)  # no cancelling sums near zero
        g = num_grad(lambda: float(np.sum(fwd(x, size, stride) * dy)), x)
        assert rel_error(bwd(dy, x, size, stride), g) <= 1e-7


# ----------------------------------------------------------------------------- im2col / col2im


def test_im2col_layout_and_col2im_adjoint():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 5, 6))
    cols = im2col(x, 3, 2, stride=2, pad=1)
    OH, OW = (5 + 2 - 3) // 2 + 1, (6 + 2 - 2) // 2 + 1
    assert cols.shape == (2 * OH * OW, 3 * 3 * 2)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    n, i, j = 1, 2, 1  # row (n*OH + i)*OW + j is the window at output (i, j) of sample n
    np.testing.assert_array_equal(cols[(n * OH + i) * OW + j], xp[n, :, 2 * i : 2 * i + 3, 2 * j : 2 * j + 2].ravel())
    g = rng.standard_normal(cols.shape)
    back = col2im(g, x.shape, 3, 2, stride=2, pad=1)
    assert back.shape == x.shape
    assert np.isclose(np.sum(cols * g), np.sum(x * back))  # col2im is the adjoint of im2col
    # square filter shorthand and the fast per-sample layout hold the same numbers
    np.testing.assert_array_equal(im2col(x, 3), im2col(x, 3, 3))
    fast = np.empty((2, 3 * 9, 3 * 4))
    for n in range(2):
        _gemm._im2col_sample(x[n], 3, 3, 1, 1, 0, 0, 3, 4, fast[n])
    np.testing.assert_array_equal(fast.transpose(0, 2, 1).reshape(-1, 27), im2col(x, 3))


# ----------------------------------------------------------------------------- the course's numbers

COURSE_X = np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]], dtype=float)
COURSE_K = np.array([[2, 0, 1], [0, 1, 2], [1, 0, 2]], dtype=float)


def test_course_examples():
    x, k = COURSE_X[None, None], COURSE_K[None, None]
    assert conv2d(x, k)[0, 0].tolist() == [[15, 16], [6, 15]]
    assert conv2d(x, k, np.array([3.0]))[0, 0].tolist() == [[18, 19], [9, 18]]
    assert conv2d(x, k, pad=1)[0, 0].tolist() == [[7, 12, 10, 2], [4, 15, 16, 10], [10, 6, 15, 6], [8, 10, 4, 3]]
    x5 = np.array([[1, 2, 3, 0, 1], [0, 1, 2, 3, 0], [3, 0, 1, 2, 3], [2, 3, 0, 1, 2], [1, 2, 3, 0, 1]], float)
    assert conv2d(x5[None, None], k, stride=2)[0, 0].tolist() == [[15, 17], [17, 15]]
    assert (conv_output_size(28, 5, 3, 2), conv_output_size(31, 5, 3, 2)) == (10, 11)


# ----------------------------------------------------------------------------- sizes and bad input


def test_conv_output_size():
    assert conv_output_size(7, 3) == 5
    assert conv_output_size(7, 3, stride=2, pad=1) == 4
    assert conv_output_size(5, 5) == 1
    with pytest.raises(ValueError, match=r"\(7 \+ 2\*0 - 3\) / 3"):
        conv_output_size(7, 3, stride=3)
    with pytest.raises(ValueError, match="not a whole number"):
        conv_output_size(3, 5)
    for bad in (dict(stride=0), dict(pad=-1), dict(stride=1.5)):
        with pytest.raises(ValueError):
            conv_output_size(7, 3, **bad)


def test_conv2d_floors_like_torch():
    x = np.ones((1, 1, 7, 8))
    w = np.ones((1, 1, 3, 3))
    assert conv2d(x, w, stride=3).shape == (1, 1, 2, 2)  # (7-3)/3 and (8-3)/3 are not whole
    dx, _, _ = conv2d_backward(np.ones((1, 1, 2, 2)), x, w, stride=3)
    assert dx[0, 0, 6].sum() == 0 and dx[0, 0, :, 6:].sum() == 0  # never reached by a window


def test_dtypes():
    x32 = np.ones((1, 2, 4, 4), np.float32)
    w32 = np.ones((3, 2, 3, 3), np.float32)
    assert conv2d(x32, w32).dtype == np.float32
    assert conv2d(x32, w32.astype(np.float64)).dtype == np.float64
    assert conv2d(x32.astype(int), w32.astype(int)).dtype == np.float64
    assert all(g.dtype == np.float32 for g in conv2d_backward(np.ones((1, 3, 2, 2), np.float32), x32, w32))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3))), r"channel mismatch.*\(1, 3, 5, 5\).*\(2, 4, 3, 3\)"),
        (lambda: conv2d(np.ones((3, 5, 5)), np.ones((2, 3, 3, 3))), r"4-D.*\(3, 5, 5\)"),
        (lambda: conv2d(np.ones((1, 3, 5, 5)), np.ones((3, 3, 3))), r"4-D.*\(3, 3, 3\)"),
        (lambda: conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4))), r"larger than padded input.*\(3, 3\)"),
        (lambda: conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 6, 2)), pad=1), r"larger than padded input.*\(5, 5\)"),
        (lambda: conv2d(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), stride=0), "stride"),
        (lambda: conv2d(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), stride=-1), "stride"),
        (lambda: conv2d(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), pad=-1), "pad"),
        (lambda: conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), np.ones(3)), r"b: expected shape \(2,\)"),
        (lambda: conv2d_backward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3))), r"dy.*\(1, 1, 3, 3\)"),
        (lambda: conv2d_backward(np.ones((1, 1, 3, 3)), np.ones((1, 2, 5, 5)), np.ones((1, 1, 3, 3))), "channel mismatch"),
        (lambda: max_pool2d(np.ones((1, 1, 3, 3)), size=4), r"larger.*\(3, 3\)"),
        (lambda: max_pool2d(np.ones((3, 3)), size=2), r"4-D.*\(3, 3\)"),
        (lambda: avg_pool2d(np.ones((1, 1, 4, 4)), size=2, stride=0), "stride"),
        (lambda: max_pool2d_backward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4))), r"dy.*\(1, 1, 2, 2\)"),
        (lambda: conv2d(np.array([["a"]]), np.ones((1, 1, 1, 1))), "numeric"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_sobel_on_photo_matches_scipy():
    """The book's edge-detection example: conv2d (flipped kernel, symmetric padding) == scipy's convolve2d."""
    signal = pytest.importorskip("scipy.signal")
    plt = pytest.importorskip("matplotlib.pyplot")
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        gray = plt.imread(fh).astype(float) @ [0.299, 0.587, 0.114]
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
    for kernel in (sobel_x, sobel_x.T[::-1].copy()):
        padded = np.pad(gray, 1, mode="symmetric")
        ours = conv2d(padded[None, None], kernel[::-1, ::-1][None, None])[0, 0]
        want = signal.convolve2d(gray, kernel, boundary="symm", mode="same")
        assert ours.shape == gray.shape
        np.testing.assert_allclose(ours, want, atol=1e-9)
        # without the flip the result is the negative (Sobel kernels are antisymmetric)
        assert not np.allclose(conv2d(padded[None, None], kernel[None, None])[0, 0], want)


@pytest.mark.parametrize("case", [CONV_CASES[1], CONV_CASES[3], CONV_CASES[6]])
def test_threaded_paths_match_reference(case):
    """Small inputs run on one thread; force the multi-threaded branches (numba prange, GEMM threads)."""
    x, w, b, stride, pad = _conv_data(case, np.float32)
    ref = C.conv2d_reference(x, w, b, stride=stride, pad=pad)
    dy = np.random.default_rng(8).standard_normal(ref.shape).astype(np.float32)
    ref_grads = C.conv2d_backward_reference(dy, x, w, stride=stride, pad=pad)
    x, w, b, stride, pad, _ = check_conv(x, w, b, stride, pad)
    for kernel in (_direct, _gemm):
        np.testing.assert_allclose(kernel.forward(x, w, b, stride, pad, min_work=0), ref, atol=1e-4)
        dx, dw = kernel.backward(dy, x, w, stride, pad, True, min_work=0)
        for g, r in zip((dx, dw), ref_grads):
            np.testing.assert_allclose(g, r, atol=1e-4 * max(1.0, np.abs(r).max()))
    xp = np.random.default_rng(9).standard_normal((3, 4, 7, 6)).astype(np.float32)
    dyp = np.ones_like(max_pool2d(xp, 3, 2))
    dxp = np.empty_like(xp)
    pool_kernels._max_pool_bwd(dyp, xp, 3, 3, 2, 2, dxp)  # called directly: numba's parallel loop
    np.testing.assert_allclose(dxp, P.max_pool2d_backward_reference(dyp, xp, 3, 2))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threaded", [False, True])
def test_stride1_gemm_groups_match_reference(dtype, threaded):
    """The stride-1 GEMM path puts ``group`` samples side by side in one product: check group
    boundaries (N not a multiple of the group, a last partial group) with pad 0 and non-square pads.
    The stride-1 direct kernel works on filters in threes and taps in fours: K % 3 != 0, R*S % 4 != 0."""
    min_work = 0 if threaded else 1 << 62
    for case in [(5, 3, 6, 7, 4, 3, 2, 1, 0), (7, 2, 5, 4, 3, 2, 3, 1, (2, 1))]:
        x, w, b, stride, pad = _conv_data(case, dtype, seed=4)
        ref = C.conv2d_reference(x, w, b, stride=stride, pad=pad)
        x, w, b, stride, pad, _ = check_conv(x, w, b, stride, pad)
        for y in (_direct.forward(x, w, b, stride, pad, min_work=min_work, tiny_work=0),  # K % 3 != 0: a part-empty triple
                  _gemm.forward(x, w, b, stride, pad, group=2, min_work=min_work)):
            assert y.dtype == dtype
            np.testing.assert_allclose(y, ref, rtol=0, atol=TOL[dtype] * np.abs(ref).max())
        np.testing.assert_allclose(_gemm.forward(x, w, None, stride, pad, group=2, min_work=min_work), ref - b[:, None, None],
                                   rtol=0, atol=TOL[dtype] * np.abs(ref).max())
        dy = np.random.default_rng(5).standard_normal(ref.shape).astype(dtype)
        want = C.conv2d_backward_reference(dy, x, w, stride=stride, pad=pad)
        got = (*_gemm.backward(dy, x, w, stride, pad, True, group=2, min_work=min_work), dy.sum(axis=(0, 2, 3)))
        for name, g, r in zip(("dx", "dw", "db"), got, want):
            assert g.dtype == dtype, name
            np.testing.assert_allclose(g, r, rtol=0, atol=TOL[dtype] * max(1.0, np.abs(r).max()), err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [(2, 3, 7, 6, 4, 1), (1, 2, 5, 5, 3, 0), (3, 4, 8, 9, 5, (1, 0)), (2, 1, 3, 3, 2, 1)])
def test_winograd_matches_the_reference(dtype, case):
    """Winograd F(2x2, 3x3): odd output sizes (a last half tile), asymmetric padding, one channel."""
    N, channels, H, W, K, pad = case
    rng = np.random.default_rng(11)
    x = rng.standard_normal((N, channels, H, W)).astype(dtype)
    w = rng.standard_normal((K, channels, 3, 3)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    ref = C.conv2d_reference(x, w, b, pad=pad)
    y = conv2d(x, w, b, pad=pad, method="winograd")
    assert y.dtype == dtype and y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=0, atol=TOL[dtype] * max(1.0, np.abs(ref).max()))
    dy = rng.standard_normal(ref.shape).astype(dtype)
    for g, r in zip(conv2d_backward(dy, x, w, pad=pad, method="winograd"), C.conv2d_backward_reference(dy, x, w, pad=pad)):
        np.testing.assert_allclose(g, r, rtol=0, atol=TOL[dtype] * max(1.0, np.abs(r).max()))
    x_, w_, b_, stride, pad_, _ = check_conv(x, w, b, 1, pad)
    np.testing.assert_allclose(_winograd_forward_threaded(x_, w_, b_, pad_), ref, rtol=0,
                               atol=TOL[dtype] * max(1.0, np.abs(ref).max()))
    with pytest.raises(ValueError, match=r"method='winograd': expected 3x3 filters and stride 1"):
        conv2d(x, w, stride=2, method="winograd")


def _winograd_forward_threaded(x, w, b, pad):
    from dlbook.conv import _winograd

    return _winograd.forward(x, w, b, (1, 1), pad, min_work=0)  # the sample split over threads


@pytest.mark.parametrize("dtype", DTYPES)
def test_tiny_stride1_convolutions_are_the_kernels_sums(dtype):
    """Tiny work runs as numpy sums (no kernel to compile): in float64 the same sums in the same
    order as the stride-1 kernel, bit for bit; in float32 the kernel's fused multiply-adds round
    differently in the last bits. Inf and NaN go through both alike."""
    rng = np.random.default_rng(11)
    for N, Cin, H, W, K, R, S, pad in [(1, 1, 5, 5, 2, 3, 3, 0), (2, 3, 4, 4, 2, 3, 3, 1), (1, 2, 6, 5, 4, 2, 3, (1, 0)),
                                     (3, 1, 4, 7, 1, 1, 1, 0)]:
        x = rng.standard_normal((N, Cin, H, W)).astype(dtype)
        w = rng.standard_normal((K, Cin, R, S)).astype(dtype)
        b = rng.standard_normal(K).astype(dtype)
        x[0, 0, 0, 0], x[-1, -1, -1, -1] = np.inf, np.nan
        x, w, b, stride, padding, _ = check_conv(x, w, b, 1, pad)
        work = x.shape[0] * K * Cin * R * S * (H + 2 * padding[0] - R + 1) * (W + 2 * padding[1] - S + 1)
        assert work < _direct.TINY_WORK
        tiny = _direct.forward(x, w, b, stride, padding)
        kernel = _direct.forward(x, w, b, stride, padding, tiny_work=0)
        if dtype == np.float64:
            np.testing.assert_array_equal(tiny, kernel)
        else:
            np.testing.assert_allclose(tiny, kernel, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(tiny, C.conv2d_reference(x, w, b, stride=stride, pad=padding),
                                   rtol=0, atol=TOL[dtype] * np.nanmax(np.abs(np.where(np.isinf(tiny), 0, tiny))))
