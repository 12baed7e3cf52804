"""Argument checks of the recurrent functions (no lesson here): one dtype, and shapes that fit."""

import numpy as np

from .._validate import as_float_array, check_ndim


def common(arrays, names):
    """Cast to float arrays of one dtype (float32 unless any input is float64)."""
    arrs = [as_float_array(a, n) for a, n in zip(arrays, names)]
    dtype = np.result_type(*arrs)
    return [a.astype(dtype, copy=False) for a in arrs]


def check_recurrent(fn, x, h0, Wx, Wh, b, gates, c0=None):
    """Validate shapes for an RNN (gates=1) or LSTM (gates=4); return arrays and sizes."""
    names = ["x", "h0", "Wx", "Wh", "b"] + (["c0"] if c0 is not None else [])
    arrays = [x, h0, Wx, Wh, b] + ([c0] if c0 is not None else [])
    arrays = common(arrays, names)
    x, h0, Wx, Wh, b = arrays[:5]
    check_ndim(x, 3, f"{fn}: x", "(N, T, D)")
    check_ndim(h0, 2, f"{fn}: h0", "(N, H)")
    N, T, D = x.shape
    H = h0.shape[1]
    if min(N, T, D, H) < 1:
        raise ValueError(f"{fn}: every size must be >= 1, got x (N, T, D) = {x.shape} and h0 (N, H) = {h0.shape}")
    G = gates * H
    gate_txt = "H" if gates == 1 else "4H"
    if h0.shape[0] != N:
        raise ValueError(f"{fn}: h0 must be (N, H) = ({N}, H) to match x {x.shape}, got {h0.shape}")
    if Wx.shape != (D, G):
        raise ValueError(f"{fn}: Wx must be (D, {gate_txt}) = {(D, G)} for x {x.shape} and h0 {h0.shape}, got {Wx.shape}")
    if Wh.shape != (H, G):
        raise ValueError(f"{fn}: Wh must be (H, {gate_txt}) = {(H, G)} for h0 {h0.shape}, got {Wh.shape}")
    if b.shape != (G,):
        raise ValueError(f"{fn}: b must be ({gate_txt},) = {(G,)} for h0 {h0.shape}, got {b.shape}")
    if c0 is not None:
        c0 = arrays[5]
        if c0.shape != h0.shape:
            raise ValueError(f"{fn}: c0 must have the shape of h0, (N, H) = {h0.shape}, got {c0.shape}")
    return x, h0, Wx, Wh, b, c0, (N, T, D, H)


def check_dh(fn, dh, shape, dtype, name="dh"):
    dh = as_float_array(dh, name)
    if dh.shape != tuple(shape):
        raise ValueError(f"{fn}: {name} must be (N, T, H) = {tuple(shape)}, the shape of the forward output, got {dh.shape}")
    return dh.astype(dtype, copy=False)
