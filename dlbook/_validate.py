"""Input checks shared by every public function.

Each helper raises ``ValueError`` with a message that names what was expected
and what was received, so a reader who passes the wrong thing learns why.
"""

import math

import numpy as np

from ._dispatch import is_device_array

FLOAT_DTYPES = (np.float32, np.float64)
# The same as dtype objects in native byte order: a set lookup, the check every call makes first.
_NATIVE_FLOAT_DTYPES = frozenset(np.dtype(t) for t in FLOAT_DTYPES)


def as_float_array(x, name="x"):
    """Return ``x`` as a native-byte-order float32 or float64 ndarray (no copy when it already is one).

    Integer and boolean input is promoted to float64; float16 to float32; big-endian floats
    keep their precision in native byte order. Non-numeric input (strings, objects, complex)
    raises ``ValueError`` naming ``name``.
    """
    if isinstance(x, np.ndarray) and x.dtype in _NATIVE_FLOAT_DTYPES:
        return x
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise ValueError(f"{name}: expected a numeric array, got {type(x).__name__} ({exc})") from None
    kind = arr.dtype.kind
    if kind in "biu":
        return arr.astype(np.float64)
    if kind != "f":
        raise ValueError(
            f"{name}: expected a real numeric array (float32 or float64), got dtype {arr.dtype}"
        )
    # float16 -> float32; float32 (either byte order) -> native float32; wider -> float64.
    target = np.float32 if arr.dtype.itemsize <= 4 else np.float64
    return arr if arr.dtype == np.dtype(target) else arr.astype(target)


def check_float_dtype(arr, name):
    """Raise ``TypeError`` unless ``arr`` is a float32 or float64 ndarray (for arrays changed in place)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name}: expected a float32 or float64 ndarray, got {type(arr).__name__}")
    if arr.dtype not in FLOAT_DTYPES or not arr.dtype.isnative:
        raise TypeError(f"{name}: expected a float32 or float64 ndarray, got dtype {arr.dtype}")


def check_ndim(x, ndim, name="x", layout=None):
    """Raise ``ValueError`` unless ``x.ndim == ndim``; ``layout`` (e.g. ``"(N, C, H, W)"``) goes in the message."""
    if x.ndim != ndim:
        want = f"{ndim}-D {layout}" if layout else f"{ndim}-D"
        raise ValueError(f"{name}: expected a {want} array, got shape {x.shape}")


def check_shape(x, shape, name="x"):
    """Raise ``ValueError`` unless ``x.shape == shape``."""
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {tuple(x.shape)}")


def check_finite(x, name="x"):
    """Raise ``ValueError`` if ``x`` holds NaN or infinity."""
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: expected finite values, got NaN or infinity")


def check_positive_int(value, name):
    """Raise ``ValueError`` unless ``value`` is an integer >= 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")


def check_nonnegative_int(value, name):
    """Raise ``ValueError`` unless ``value`` is an integer >= 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name}: expected an integer >= 0, got {value!r}")


def as_input(x, dtype=None, name="x"):
    """A layer's input: device arrays pass through untouched (their kernels check them);
    anything else becomes a float array (:func:`as_float_array`), cast to ``dtype`` if given."""
    if not isinstance(x, np.ndarray) and is_device_array(x):
        return x
    x = as_float_array(x, name)
    return x if dtype is None else x.astype(dtype, copy=False)


def as_rows(x, features, dtype, layer):
    """x (N, d1, d2, ...) with d1*d2*... = ``features``, or one sample (features,) -> (N, features).

    An image batch is flattened, one row per sample; the rows are cast to ``dtype``.
    """
    x = as_input(x, dtype)
    if x.ndim == 1 and not is_device_array(x):  # one sample
        x = x[None, :]
    if x.ndim < 1 or math.prod(x.shape[1:]) != features:
        raise ValueError(
            f"{layer}: expected x of shape (N, {features}) (or (N, ...) with {features} features "
            f"per sample), got {tuple(x.shape)}"
        )
    return x.reshape(x.shape[0], features)
