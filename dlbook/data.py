"""Small data sets that need no download — used by docs/labs/xor-mlp.ipynb and docs/labs/digits-mlp.ipynb.

- :func:`load_digits` — scikit-learn's 1797 handwritten digits (8x8 pixels), scaled to [0, 1].
- :func:`xor` — the four points of the XOR problem (异或).
- :func:`one_hot` — integer labels to one-hot rows.
- :func:`train_val_split` — hold out a shuffled validation set (to see overfitting, 过拟合).
"""

import numpy as np

from ._validate import check_positive_int

__all__ = ["load_digits", "xor", "one_hot", "train_val_split"]


def _fraction(value, name):
    """``value`` as a float strictly between 0 and 1, else ``ValueError`` naming it."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = None
    if v is None or not 0 < v < 1:
        raise ValueError(f"{name}: expected a fraction in (0, 1), got {value!r}")
    return v


def load_digits(test_size=0.25, seed=0, flat=True):
    """scikit-learn's 8x8 digits as ``(x_train, t_train, x_test, t_test)``.

    x: float32 in [0, 1], (N, 64) when ``flat`` else (N, 1, 8, 8); t: int64 labels 0..9.
    The split is stratified (every digit in the same proportion on both sides) and fixed by
    ``seed``; ``test_size`` is the test fraction, in (0, 1).
    """
    ts = _fraction(test_size, "load_digits: test_size")
    from sklearn.datasets import load_digits as _sk_load_digits  # the `plot` extra

    d = _sk_load_digits()
    x = (d.data / 16.0).astype(np.float32)
    t = d.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test_idx, train_idx = [], []
    for c in np.unique(t):
        idx = rng.permutation(np.flatnonzero(t == c))
        k = int(round(ts * len(idx)))
        test_idx.append(idx[:k])
        train_idx.append(idx[k:])
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    if not flat:
        x = x.reshape(-1, 1, 8, 8)
    return x[train_idx], t[train_idx], x[test_idx], t[test_idx]


def xor(dtype=np.float64):
    """The XOR truth table: x (4, 2) inputs in {0, 1}, t (4,) labels ``x0 != x1``."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    t = np.array([0, 1, 1, 0], dtype=np.int64)
    return x, t


def one_hot(t, num_classes=None):
    """Integer labels (N,) -> one-hot float64 rows (N, C); ``C`` defaults to ``max(t) + 1``."""
    t = np.asarray(t)
    if t.ndim != 1 or t.dtype.kind not in "iu":
        raise ValueError(f"one_hot: expected 1-D integer labels, got shape {t.shape} dtype {t.dtype}")
    if num_classes is None:
        num_classes = int(t.max()) + 1 if t.size else 0
    check_positive_int(num_classes, "num_classes")
    if t.size and (t.min() < 0 or t.max() >= num_classes):
        raise ValueError(f"one_hot: expected labels in [0, {num_classes}), got values in [{t.min()}, {t.max()}]")
    out = np.zeros((t.size, num_classes))
    out[np.arange(t.size), t] = 1.0
    return out


def train_val_split(x, t, fraction=0.2, seed=0):
    """Split ``(x, t)`` into ``(x_train, t_train), (x_val, t_val)``: shuffled, disjoint, every sample once.

    x: (N, ...), t: (N, ...) -> the validation part holds ``round(fraction * N)`` samples (at least 1,
    and at least 1 left for training); ``fraction`` in (0, 1); the order comes from
    ``numpy.random.default_rng(seed)``. The model never trains on the validation samples, so its
    loss there tells how well it generalises.
    """
    x, t = np.asarray(x), np.asarray(t)
    if x.ndim < 1 or t.ndim < 1 or len(x) != len(t):
        raise ValueError(f"train_val_split: expected x and t with one sample per row, got shapes {x.shape} and {t.shape}")
    f = _fraction(fraction, "train_val_split: fraction")
    n = len(x)
    if n < 2:
        raise ValueError(f"train_val_split: expected at least 2 samples, got {n}")
    k = min(max(int(round(f * n)), 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    val, train = order[:k], order[k:]
    return (x[train], t[train]), (x[val], t[val])
