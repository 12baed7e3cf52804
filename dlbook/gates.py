"""Logic gates built from perceptrons (感知机) — book page: docs/02-networks/perceptron.md.

A perceptron with two inputs fires (outputs 1) when ``w1*x1 + w2*x2 > theta`` and
outputs 0 otherwise. AND, OR and NAND are single perceptrons with the course's
weights; XOR is not linearly separable, so it needs two layers:
``XOR(x1, x2) = AND(NAND(x1, x2), OR(x1, x2))``.

Each gate takes scalars (returns a Python ``int``, 0 or 1) or arrays that broadcast
together (returns an int64 array of 0s and 1s).
"""

import numpy as np

from ._lazy import lazy_vectorize
from ._validate import as_float_array

__all__ = ["perceptron", "AND", "OR", "NAND", "XOR", "GATE_PARAMS"]

# (w1, w2, theta) exactly as the course gives them; NAND is AND with every sign flipped.
GATE_PARAMS = {
    "AND": (0.5, 0.5, 0.7),
    "OR": (0.5, 0.5, 0.2),
    "NAND": (-0.5, -0.5, -0.7),
}


@lazy_vectorize(lambda *args: "int64(float64, float64, float64, float64, float64)")
def _fire(x1, x2, w1, w2, theta):
    return 1 if x1 * w1 + x2 * w2 > theta else 0


def perceptron(x1, x2, w1, w2, theta):
    """Two-input perceptron: 1 where ``w1*x1 + w2*x2 > theta``, else 0.

    x1, x2: scalars or arrays that broadcast together -> int (scalars) or int64 array.
    """
    a = as_float_array(x1, "x1").astype(np.float64, copy=False)
    b = as_float_array(x2, "x2").astype(np.float64, copy=False)
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        raise ValueError(f"x1 and x2 must broadcast together, got shapes {a.shape} and {b.shape}") from None
    out = _fire(a, b, float(w1), float(w2), float(theta))
    return int(out) if np.ndim(out) == 0 else out


def _gate(name):
    w1, w2, theta = GATE_PARAMS[name]

    def gate(x1, x2):
        return perceptron(x1, x2, w1, w2, theta)

    gate.__name__ = gate.__qualname__ = name
    gate.__doc__ = (
        f"{name} gate: a perceptron with w1={w1}, w2={w2}, theta={theta}.\n\n"
        "    x1, x2: 0/1 scalars or arrays that broadcast -> int or int64 array of 0/1."
    )
    return gate


AND = _gate("AND")
OR = _gate("OR")
NAND = _gate("NAND")


def XOR(x1, x2):
    """XOR gate: a two-layer perceptron, ``AND(NAND(x1, x2), OR(x1, x2))``.

    x1, x2: 0/1 scalars or arrays that broadcast -> int or int64 array of 0/1.
    """
    return AND(NAND(x1, x2), OR(x1, x2))
