"""Loss functions (损失函数) — book page: docs/03-training/losses.md.

- :func:`mean_squared_error` — the course's MSE, the mean of ``(y - t)**2`` over *all* elements.
- :func:`cross_entropy_error` — ``-sum_k t_k log y_k`` for probabilities ``y``, mean over the batch.
- :func:`softmax_cross_entropy` — cross-entropy of ``softmax(logits)`` computed through a
  log-sum-exp, so logits of +-1e4 give a finite, exact loss.

Targets ``t`` come either as one-hot (or any probability) rows with the shape of ``y``, or as
integer class labels with the shape of ``y`` minus its last axis. A 1-D ``y`` is one sample.
Each function returns a NumPy scalar of the input's dtype (float32 stays float32).
:class:`dlbook.layers.SoftmaxWithLoss` uses the same :func:`log_softmax_xent` as
:func:`softmax_cross_entropy`.
"""

import numpy as np
from numba import njit

from ._dispatch import dispatch
from ._validate import as_float_array, check_finite

__all__ = [
    "mean_squared_error",
    "cross_entropy_error",
    "softmax_cross_entropy",
    "log_softmax",
    "log_softmax_xent",
    "as_targets",
]


def mean_squared_error(y, t):
    """Mean squared error ``mean((y - t)**2)`` over every element (the course's formula).

    y: any shape; t: the same shape -> scalar of y's dtype.
    (Some books use ``0.5 * sum((y - t)**2)`` instead: same minimiser, different scale.)
    """
    y = as_float_array(y, "y")
    t = as_float_array(t, "t")
    if y.shape != t.shape:
        raise ValueError(f"mean_squared_error: expected t with the shape of y {y.shape}, got {t.shape}")
    if y.size == 0:
        raise ValueError("mean_squared_error: expected at least one element, got an empty array")
    check_finite(y, "y")
    check_finite(t, "t")
    if t.dtype != y.dtype:
        t = t.astype(y.dtype)
    d = y - t
    return y.dtype.type(np.vdot(d, d) / d.size)


def as_targets(y, t, name="t"):
    """Classify ``t`` against scores/probabilities ``y`` of shape ``(..., C)``.

    Returns ``("labels", t_int)`` with ``t_int`` an int array of shape ``y.shape[:-1]``, or
    ``("onehot", t_float)`` with the shape (and dtype) of ``y``. Raises ``ValueError`` for
    any other shape, for labels that are not integers in ``[0, C)``, and for NaN.
    """
    t = np.asarray(t)
    shape = tuple(y.shape)  # a plain tuple: simulator device arrays' shapes take no negative index
    if t.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected integer labels or one-hot rows, got dtype {t.dtype}")
    C = shape[-1]
    if t.shape == shape:
        t = t.astype(y.dtype, copy=False)
        check_finite(t, name)
        return "onehot", t
    if t.shape == shape[:-1]:
        if t.dtype.kind == "f":
            check_finite(t, name)
            if not np.all(t == np.round(t)):
                raise ValueError(f"{name}: expected integer class labels, got non-integer values")
        t = t.astype(np.intp, copy=False)
        if t.size and not _labels_in_range(t.reshape(-1), C):
            raise ValueError(
                f"{name}: expected class labels in [0, {C}), got values in [{t.min()}, {t.max()}]"
            )
        return "labels", t
    raise ValueError(
        f"{name}: expected one-hot targets of shape {shape} or integer labels of shape "
        f"{shape[:-1]}, got shape {t.shape}"
    )


@njit(cache=True)
def _labels_in_range(t, C):
    """Whether every label of t (flat, integer) is in [0, C): one pass (t.min() and t.max() are two)."""
    for i in range(t.size):
        if t[i] < 0 or t[i] >= C:
            return False
    return True


def _check_scores(y, name, func):
    y = as_float_array(y, name)
    if y.ndim not in (1, 2):
        raise ValueError(f"{func}: expected {name} of shape (C,) or (N, C), got shape {y.shape}")
    if y.shape[-1] == 0 or (y.ndim == 2 and y.shape[0] == 0):
        raise ValueError(f"{func}: expected a non-empty {name}, got shape {y.shape}")
    check_finite(y, name)
    return y


def cross_entropy_error(y, t):
    """Cross-entropy ``E = -sum_k t_k log y_k`` (交叉熵), averaged over the batch.

    y: (N, C) or (C,) probabilities (e.g. a softmax output), entries >= 0.
    t: one-hot (N, C) / (C,), or integer labels (N,) / scalar -> scalar of y's dtype.
    A probability of exactly 0 on the target class is read as the smallest positive
    normal number of the dtype, so the loss stays finite (about 87 in float32, 708 in float64).
    """
    y = _check_scores(y, "y", "cross_entropy_error")
    if np.any(y < 0):
        raise ValueError("cross_entropy_error: expected probabilities y >= 0, got negative values")
    kind, t = as_targets(y, t)
    y2 = y.reshape(-1, y.shape[-1])
    n = y2.shape[0]
    tiny = np.finfo(y.dtype).tiny
    if kind == "labels":
        p = y2[np.arange(n), t.reshape(-1)]
        loss = -np.sum(np.log(np.maximum(p, tiny))) / n
    else:
        t2 = t.reshape(y2.shape)
        loss = -np.sum(t2 * np.log(np.maximum(y2, tiny))) / n
    return y.dtype.type(loss)


def log_softmax(x):
    """``log(softmax(x))`` along the last axis, via log-sum-exp: ``z - log(sum(exp(z)))``, ``z = x - max``.

    x: (..., C) -> same shape and dtype. Exact for any finite input (logits of 1e4 included).
    """
    x = as_float_array(x)
    z = x - x.max(axis=-1, keepdims=True)
    z -= np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return z


_BAD_LOGITS, _BAD_LABEL = 1, 2  # status codes of the two kernels below


@njit(cache=True)
def _xent_labels_kernel(x, t, y):
    """Fast path for integer labels. x (N, C), t (N,) int, y (N, C) out: softmax(x).

    Returns ``(summed loss (float64), status)``: status 0 when all went well, ``_BAD_LOGITS``
    when x holds NaN/inf, ``_BAD_LABEL`` when a label is out of range (the caller raises a
    ValueError that says which). A finite loss too large for float64 comes back as inf.
    """
    n, c = x.shape
    total = 0.0
    for i in range(n):
        row = x[i]
        out = y[i]
        m = row[0]
        for k in range(1, c):
            if row[k] > m:
                m = row[k]
        s = row[0] * 0  # zero of x's dtype
        for k in range(c):
            e = np.exp(row[k] - m)
            out[k] = e
            s += e
        if not (np.isfinite(m) and np.isfinite(s)):
            return total, _BAD_LOGITS
        ti = t[i]
        if ti < 0 or ti >= c:
            return total, _BAD_LABEL
        inv = 1 / s
        for k in range(c):
            out[k] *= inv
        total += np.log(s) - (row[ti] - m)
    return total, 0


@njit(cache=True)
def _xent_onehot_kernel(x, t, y):
    """Fast path for one-hot (or any probability) targets t (N, C); as :func:`_xent_labels_kernel`."""
    n, c = x.shape
    total = 0.0
    for i in range(n):
        row = x[i]
        out = y[i]
        m = row[0]
        for k in range(1, c):
            if row[k] > m:
                m = row[k]
        s = row[0] * 0
        for k in range(c):
            e = np.exp(row[k] - m)
            out[k] = e
            s += e
        if not (np.isfinite(m) and np.isfinite(s)):
            return total, _BAD_LOGITS
        ls = np.log(s)
        inv = 1 / s
        for k in range(c):
            out[k] *= inv
            if t[i, k] != 0:  # 0 * log(0) counts as 0, even where exp underflowed
                total += t[i, k] * (ls - (row[k] - m))
    return total, 0


@njit(cache=True)
def _xent_labels_backward_kernel(y, t, scale, dx):
    """dx = scale * (y - onehot(t)) in one pass; y, dx (N, C), t (N,) int, scale of y's dtype.

    Returns ``_BAD_LABEL`` (and stops) at a label outside [0, C) before writing with it, else 0.
    """
    n, c = y.shape
    for i in range(n):
        label = t[i]
        if label < 0 or label >= c:
            return _BAD_LABEL
        yi = y[i]
        di = dx[i]
        for k in range(c):
            di[k] = yi[k] * scale
        di[label] -= scale
    return 0


@dispatch("softmax_xent_backward")
def softmax_xent_backward(y, kind, t, scale):
    """Gradient of the mean softmax cross-entropy w.r.t. the logits: ``scale * (y - t)``.

    y: (N, C) softmax probabilities from :func:`log_softmax_xent`; ``kind, t`` as there; scale is
    usually ``dout / N``. Returns a new (N, C) array of y's dtype (y is left unchanged).
    """
    n, c = y.shape
    if kind == "labels":
        if t.shape != (n,) or t.dtype.kind not in "iu":
            raise ValueError(f"softmax_xent_backward: expected integer labels of shape ({n},), got {t.dtype} {t.shape}")
    elif t.shape != y.shape:
        raise ValueError(f"softmax_xent_backward: expected t of shape {y.shape}, got {t.shape}")
    if kind == "labels" and y.flags.c_contiguous:
        dx = np.empty_like(y)
        if _xent_labels_backward_kernel(y, t, y.dtype.type(scale), dx):  # checks each label it uses
            raise ValueError(f"softmax_xent_backward: expected labels in [0, {c}), got values in [{t.min()}, {t.max()}]")
        return dx
    if kind == "labels" and n and (t.min() < 0 or t.max() >= c):
        raise ValueError(f"softmax_xent_backward: expected labels in [0, {c}), got values in [{t.min()}, {t.max()}]")
    return softmax_xent_backward_reference(y, kind, t, scale)


def softmax_xent_backward_reference(y, kind, t, scale):
    """Plain NumPy version of :func:`softmax_xent_backward`."""
    dx = y.copy()
    if kind == "labels":
        dx[np.arange(dx.shape[0]), t] -= 1
    else:
        dx -= t
    dx *= scale
    return dx


def log_softmax_xent_reference(x, kind, t):
    """Plain NumPy version of :func:`log_softmax_xent` (the oracle its numba kernels are tested against)."""
    n = x.shape[0]
    z = x - x.max(axis=1, keepdims=True)  # z <= 0: exp never overflows
    y = np.exp(z)
    s = y.sum(axis=1, keepdims=True)
    logs = np.log(s)  # log-sum-exp minus max
    if kind == "labels":
        loss = (logs.sum() - z[np.arange(n), t].sum()) / n
    else:
        # -sum t * (z - logs) = sum_i logs_i * sum_k t_ik - sum t * z
        loss = (np.vdot(logs.ravel(), t.sum(axis=1)) - np.vdot(t, z)) / n
    y /= s
    return float(loss), y


def _check_xent_args(x, kind, t):
    """Shapes and dtypes :func:`log_softmax_xent` needs before its kernels may index anything."""
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"log_softmax_xent: expected x of shape (N, C) with N, C >= 1, got {np.shape(x)}")
    x = as_float_array(x)
    t = np.asarray(t)
    if kind == "labels":
        if t.dtype.kind not in "iu":
            raise TypeError(f"log_softmax_xent: expected integer labels, got dtype {t.dtype}")
        if t.shape != (x.shape[0],):
            raise ValueError(f"log_softmax_xent: expected labels of shape ({x.shape[0]},) for x {x.shape}, got {t.shape}")
        t = np.ascontiguousarray(t, dtype=np.intp)
    elif kind == "onehot":
        if t.shape != x.shape:
            raise ValueError(f"log_softmax_xent: expected one-hot t of shape {x.shape}, got {t.shape}")
        t = np.ascontiguousarray(as_float_array(t, "t"), dtype=x.dtype)
    else:
        raise ValueError(f"log_softmax_xent: expected kind 'labels' or 'onehot', got {kind!r}")
    return np.ascontiguousarray(x), t


def _raise_bad(status, C):
    if status == _BAD_LOGITS:
        raise ValueError("softmax cross-entropy: expected finite logits, got NaN or infinity")
    raise ValueError(f"softmax cross-entropy: expected class labels in [0, {C}), got one outside")


@dispatch("log_softmax_xent")
def log_softmax_xent(x, kind, t):
    """Shared core of :func:`softmax_cross_entropy` and ``SoftmaxWithLoss``.

    x: (N, C) finite logits; kind ``"labels"`` with t integer labels (N,), or ``"onehot"`` with
    t (N, C) (as returned by :func:`as_targets`). Returns ``(loss, y)``: the mean loss (Python
    float; inf if it overflows float64) and the softmax probabilities (N, C, x's dtype), both
    from one log-sum-exp per row ``log sum_k exp(x_k) = m + log sum_k exp(x_k - m)``,
    ``m = max_k x_k``, with no epsilon. A numba kernel does it in one pass;
    :func:`log_softmax_xent_reference` is the NumPy formula.
    """
    x, t = _check_xent_args(x, kind, t)
    y = np.empty_like(x)
    kernel = _xent_labels_kernel if kind == "labels" else _xent_onehot_kernel
    total, status = kernel(x, t, y)
    if status:
        _raise_bad(status, x.shape[1])
    return total / x.shape[0], y


def softmax_cross_entropy(logits, t):
    """Cross-entropy of ``softmax(logits)`` against ``t``, mean over the batch, via log-sum-exp.

    logits: (N, C) or (C,); t: one-hot (N, C) / (C,) or integer labels (N,) / scalar
    -> scalar of the logits' dtype. ``log softmax(x)_k = x_k - m - log sum_j exp(x_j - m)`` with
    ``m = max(x)``, so logits of +-1e4 give the exact, finite answer.
    """
    x = _check_scores(logits, "logits", "softmax_cross_entropy")
    kind, t = as_targets(x, t)
    x2 = x.reshape(-1, x.shape[-1])
    t2 = t.reshape(x2.shape[0]) if kind == "labels" else t.reshape(x2.shape)
    loss, _ = log_softmax_xent(x2, kind, t2)
    return x.dtype.type(loss)
