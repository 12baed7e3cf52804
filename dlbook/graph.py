"""Computational-graph nodes (计算图) — book page: docs/03-training/backprop.md.

:class:`MulLayer` and :class:`AddLayer` are the two nodes of the course's shopping example
("2 apples at 10 each, 10 % tax"). ``forward(x, y)`` computes the node's output and
``backward(dout)`` returns ``(dx, dy)``, the upstream gradient times the local derivatives:

- add node ``z = x + y``: ``dz/dx = dz/dy = 1``, so ``dout`` passes through unchanged;
- multiply node ``z = x * y``: ``dz/dx = y``, ``dz/dy = x``, so ``dout`` is multiplied by the
  *other* input ("swapped").

Inputs may be numbers or arrays of one shape; ``dout`` has the output's shape.
"""

import numpy as np

__all__ = ["MulLayer", "AddLayer"]


def _check_operand(v, name, node):
    """A number stays a number (the course's prices print as 220, not array(220));
    anything else becomes an ndarray, so ``[1, 2] + [3, 4]`` adds instead of concatenating."""
    a = np.asarray(v)
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{node}: expected a number or numeric array for {name}, got {type(v).__name__}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{node}: expected finite {name}, got NaN or infinity")
    return v if isinstance(v, (int, float, np.number, np.ndarray)) and not isinstance(v, bool) else a


def _check_same_shape(x, y, node):
    if np.shape(x) != np.shape(y):
        raise ValueError(f"{node}.forward: expected x and y of one shape, got {np.shape(x)} and {np.shape(y)}")


class MulLayer:
    """Multiply node: ``forward(x, y) = x * y``; ``backward(dout) = (dout * y, dout * x)``."""

    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        x = _check_operand(x, "x", "MulLayer")
        y = _check_operand(y, "y", "MulLayer")
        _check_same_shape(x, y, "MulLayer")
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        if self.x is None:
            raise ValueError("MulLayer.backward: call forward first")
        if np.shape(dout) != np.shape(self.x):
            raise ValueError(f"MulLayer.backward: expected dout of shape {np.shape(self.x)}, got {np.shape(dout)}")
        dout = _check_operand(dout, "dout", "MulLayer")
        return dout * self.y, dout * self.x


class AddLayer:
    """Add node: ``forward(x, y) = x + y``; ``backward(dout) = (dout, dout)`` (copies for arrays)."""

    def __init__(self):
        self.shape = None

    def forward(self, x, y):
        x = _check_operand(x, "x", "AddLayer")
        y = _check_operand(y, "y", "AddLayer")
        _check_same_shape(x, y, "AddLayer")
        self.shape = np.shape(x)
        return x + y

    def backward(self, dout):
        if self.shape is not None and np.shape(dout) != self.shape:
            raise ValueError(f"AddLayer.backward: expected dout of shape {self.shape}, got {np.shape(dout)}")
        dout = _check_operand(dout, "dout", "AddLayer")
        if isinstance(dout, np.ndarray):
            return dout.copy(), dout.copy()  # never hand out dout itself: callers may modify it
        return dout * 1, dout * 1
