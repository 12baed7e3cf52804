"""dlbook.layers conv/pool/flatten/residual layers: shapes, gradient checks, protocol details."""

import numpy as np
import pytest

from dlbook.conv import conv2d
from dlbook.init import he_normal
from dlbook.layers import AvgPool2d, Conv2d, Flatten, MaxPool2d, ResidualBlock
from dlbook.gradcheck import numerical_gradient, rel_error


def num_grad(f, a, h=1e-5):
    """Central differences of the scalar ``f()`` w.r.t. every entry of ``a`` (perturbed in place, restored)."""
    return numerical_gradient(lambda _: f(), a, h)


def check_layer(layer, x, params=()):
    rng = np.random.default_rng(1)
    dout = rng.standard_normal(layer.forward(x).shape)
    dout_copy = dout.copy()
    dx = layer.backward(dout)
    np.testing.assert_array_equal(dout, dout_copy)  # backward never modifies dout
    f = lambda: float(np.sum(layer.forward(x) * dout))  # noqa: E731
    assert rel_error(dx, num_grad(f, x)) <= 1e-7
    for name in params:
        layer.forward(x)
        layer.backward(dout)
        analytic = layer.grads[name].copy()
        assert rel_error(analytic, num_grad(f, layer.params[name])) <= 1e-7, name


def test_conv2d_layer_gradients():
    rng = np.random.default_rng(0)
    W = he_normal((3, 2, 3, 2), rng, np.float64)
    b = rng.standard_normal(3)
    layer = Conv2d(W, b, stride=2, pad=1)
    x = rng.standard_normal((2, 2, 5, 6))
    np.testing.assert_allclose(layer.forward(x), conv2d(x, W, b, stride=2, pad=1))
    check_layer(layer, x, ("W", "b"))
    assert layer.params["W"] is W  # kept by reference: an optimizer updates the layer


def test_conv2d_layer_casts_to_weight_dtype_and_skips_input_grad():
    W, b = he_normal((4, 1, 3, 3), 0, np.float32), np.zeros(4, np.float32)
    layer = Conv2d(W, b)
    y = layer.forward(np.ones((2, 1, 6, 6)))
    assert y.dtype == np.float32 and y.shape == (2, 4, 4, 4)
    layer.input_grad = False
    assert layer.backward(np.ones_like(y)) is None
    assert layer.grads["W"].shape == W.shape and layer.grads["b"].shape == (4,)


@pytest.mark.parametrize("cls", [MaxPool2d, AvgPool2d])
def test_pool_layers(cls):
    rng = np.random.default_rng(2)
    x = (rng.permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6) - 108.0) * 0.01
    layer = cls(2)
    assert layer.forward(x).shape == (2, 3, 3, 3) and layer.params == {}
    check_layer(layer, x)
    assert cls(3, 2).forward(x).shape == (2, 3, 2, 2)


def test_flatten():
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    f = Flatten()
    y = f.forward(x)
    assert y.shape == (2, 12)
    assert f.backward(y).shape == x.shape
    with pytest.raises(ValueError, match=r"\(2, 12\)"):
        f.backward(np.ones((2, 5)))


def test_residual_block_gradients():
    rng = np.random.default_rng(3)
    block = ResidualBlock.init(2, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 2, 4, 5))
    assert block.forward(x).shape == x.shape
    check_layer(block, x, ("W1", "b1", "W2", "b2"))


def test_errors():
    with pytest.raises(ValueError, match=r"4-D"):
        Conv2d(np.ones((3, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"\(2,\)"):
        Conv2d(np.ones((2, 1, 3, 3)), np.ones(3))
    with pytest.raises(ValueError, match="forward first"):
        MaxPool2d().backward(np.ones((1, 1, 1, 1)))
    with pytest.raises(ValueError, match="channel mismatch"):
        Conv2d(he_normal((2, 3, 3, 3)), np.zeros(2)).forward(np.ones((1, 2, 5, 5)))
