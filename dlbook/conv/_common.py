"""Argument checks shared by convolution, pooling and their GPU kernels (no lesson here).

Each returns arrays ready for a kernel (C-contiguous, one float dtype) or raises ``ValueError``
naming the argument, what was expected and what was received.
"""

import numpy as np

from .._validate import as_float_array, check_ndim

def pair(value, name, minimum):
    """``value`` as an ``(h, w)`` pair of ints >= ``minimum``; ValueError naming it otherwise."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name}: expected an int or an (h, w) pair, got {value!r}")
        pair = tuple(value)
    else:
        pair = (value, value)
    for v in pair:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < minimum:
            raise ValueError(f"{name}: expected an integer >= {minimum} (or a pair of them), got {value!r}")
    return int(pair[0]), int(pair[1])


def out_size(size, k, stride, pad=0):
    """Output length along one axis, floor division as in PyTorch: ``(size + 2*pad - k) // stride + 1``.

    The one place the floor formula lives (convolution and pooling use it; the course's strict
    version is :func:`dlbook.conv.conv_output_size`).
    """
    return (size + 2 * pad - k) // stride + 1


def common_dtype(*arrays):
    dt = np.result_type(*arrays)
    return np.float64 if dt == np.float64 else np.float32


def check_conv(x, w, b, stride, pad, name_x="x"):
    """Validate and convert conv inputs; return (x, w, b, (sh, sw), (ph, pw), (OH, OW))."""
    x = as_float_array(x, name_x)
    w = as_float_array(w, "w")
    check_ndim(x, 4, name_x, "(N, C, H, W)")
    check_ndim(w, 4, "w", "(K, C, R, S)")
    sh, sw = pair(stride, "stride", 1)
    ph, pw = pair(pad, "pad", 0)
    N, C, H, W = x.shape
    K, Cw, R, S = w.shape
    if C != Cw:
        raise ValueError(
            f"channel mismatch: {name_x} has C={C} channels, shape {x.shape}, but w expects C={Cw},"
            f" shape {w.shape} (w is (K, C, R, S))"
        )
    if R > H + 2 * ph or S > W + 2 * pw:
        raise ValueError(
            f"kernel larger than padded input: w {w.shape} has (R, S)=({R}, {S}) but {name_x} {x.shape}"
            f" padded by {(ph, pw)} is ({H + 2 * ph}, {W + 2 * pw})"
        )
    if min(x.shape) == 0 or min(w.shape) == 0:
        raise ValueError(f"empty input: {name_x} {x.shape}, w {w.shape}")
    dt = common_dtype(x, w) if b is None else common_dtype(x, w, as_float_array(b, "b"))
    x = np.ascontiguousarray(x, dtype=dt)
    w = np.ascontiguousarray(w, dtype=dt)
    if b is not None:
        b = np.ascontiguousarray(as_float_array(b, "b"), dtype=dt)
        if b.shape != (K,):
            raise ValueError(f"b: expected shape ({K},) (one bias per filter of w {w.shape}), got {b.shape}")
    out = (out_size(H, R, sh, ph), out_size(W, S, sw, pw))
    return x, w, b, (sh, sw), (ph, pw), out


def check_pool(x, size, stride, name="x"):
    x = as_float_array(x, name)
    check_ndim(x, 4, name, "(N, C, H, W)")
    kh, kw = pair(size, "size", 1)
    sh, sw = (kh, kw) if stride is None else pair(stride, "stride", 1)
    H, W = x.shape[2:]
    if kh > H or kw > W:
        raise ValueError(f"pool window {(kh, kw)} larger than the input's (H, W)=({H}, {W}); x {x.shape}")
    if min(x.shape) == 0:
        raise ValueError(f"empty input: {name} {x.shape}")
    out = (out_size(H, kh, sh), out_size(W, kw, sw))
    return np.ascontiguousarray(x), (kh, kw), (sh, sw), out


def check_dy(dy, expected, dtype):
    dy = as_float_array(dy, "dy")
    if dy.shape != tuple(expected):
        raise ValueError(f"dy: expected shape {tuple(expected)} (the forward output's), got {dy.shape}")
    return np.ascontiguousarray(dy, dtype=dtype)


def padded(x, ph, pw):
    """x (N, C, H, W) with ph zero rows above/below and pw zero columns left/right (no copy when both are 0)."""
    if ph == 0 and pw == 0:
        return x
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    xp[:, :, ph : ph + H, pw : pw + W] = x
    return xp
