"""Dense layers and Sequential: shapes, dtypes, bad input, and float64 gradient checks (rel error <= 1e-7)."""

import warnings

import numpy as np
import pytest

from dlbook.gradcheck import numerical_gradient, rel_error
from dlbook.layers import Affine, MeanSquaredLoss, ReLU, Sigmoid, SoftmaxWithLoss, Tanh
from dlbook.losses import softmax_cross_entropy
from dlbook.models import MLP, Sequential

TOL = 1e-7


def _away_from_zero(rng, shape, margin=0.1):
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin + x, x)


def _check_layer_input_grad(layer, x, rng):
    """rel_error of dx against central differences of sum(forward(x) * dout)."""
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    dout_copy = dout.copy()
    dx = layer.backward(dout)
    assert np.array_equal(dout, dout_copy), "backward mutated dout"
    num = numerical_gradient(lambda _: np.sum(layer.forward(x) * dout), x)
    return rel_error(dx, num)


def test_affine_forward_backward_and_grad_check():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5))
    W = rng.standard_normal((5, 3))
    b = rng.standard_normal(3)
    layer = Affine(W, b)
    out = layer.forward(x)
    np.testing.assert_allclose(out, x @ W + b)
    assert layer.params["W"] is W and layer.params["b"] is b
    assert set(layer.params) == set(layer.grads) == {"W", "b"}
    assert _check_layer_input_grad(layer, x, rng) <= TOL
    dout = rng.standard_normal((4, 3))
    layer.forward(x)
    layer.backward(dout)
    f = lambda _: np.sum(layer.forward(x) * dout)
    assert rel_error(layer.grads["W"], numerical_gradient(f, W)) <= TOL
    assert rel_error(layer.grads["b"], numerical_gradient(f, b)) <= TOL
    np.testing.assert_allclose(layer.dW, x.T @ dout)
    np.testing.assert_allclose(layer.db, dout.sum(0))


def test_affine_flattens_nd_input_and_restores_shape():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 2, 2))
    layer = Affine(rng.standard_normal((12, 4)), np.zeros(4))
    out = layer.forward(x)
    assert out.shape == (2, 4)
    dx = layer.backward(np.ones((2, 4)))
    assert dx.shape == x.shape
    assert _check_layer_input_grad(layer, x, rng) <= TOL


def test_affine_keeps_float32():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((6, 3)).astype(np.float32)
    layer = Affine(W, np.zeros(3, np.float32))
    out = layer.forward(rng.standard_normal((5, 6)))  # float64 input is cast to W's dtype
    assert out.dtype == np.float32
    dx = layer.backward(np.ones((5, 3), np.float32))
    assert dx.dtype == np.float32 and layer.grads["W"].dtype == np.float32


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.zeros((3, 2)), np.zeros(3)), r"b of shape \(2,\)"),
        ((np.zeros(3), np.zeros(3)), r"W of shape \(D, M\)"),
    ],
)
def test_affine_bad_params(args, match):
    with pytest.raises(ValueError, match=match):
        Affine(*args)


def test_affine_bad_input_and_dout():
    layer = Affine(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"expected x of shape \(N, 3\)"):
        layer.forward(np.zeros((4, 5)))
    layer.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"dout of shape \(4, 2\)"):
        layer.backward(np.zeros((4, 3)))


@pytest.mark.parametrize("cls", [ReLU, Sigmoid, Tanh])
def test_activation_layers_grad_check(cls):
    rng = np.random.default_rng(3)
    x = _away_from_zero(rng, (3, 7))
    layer = cls()
    assert layer.params == {} and layer.grads == {}
    assert _check_layer_input_grad(layer, x, rng) <= TOL


def test_activation_layers_values_and_dtype():
    x = np.array([[-2.0, 0.5], [3.0, -0.1]], np.float32)
    np.testing.assert_allclose(ReLU().forward(x), np.maximum(x, 0))
    np.testing.assert_allclose(Sigmoid().forward(x), 1 / (1 + np.exp(-x)), rtol=1e-6)
    np.testing.assert_allclose(Tanh().forward(x), np.tanh(x), rtol=1e-6)
    for cls in (ReLU, Sigmoid, Tanh):
        layer = cls()
        assert layer.forward(x).dtype == np.float32
        assert layer.backward(np.ones_like(x)).dtype == np.float32
    r = ReLU()
    r.forward(x)
    np.testing.assert_array_equal(r.backward(np.full_like(x, 2.0)), 2.0 * (x > 0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_follows_torch_at_nan_and_inf(dtype):
    """The switch is shut where x <= 0, whatever dout is there (inf * 0 is not NaN), and a NaN
    input passes dout on: torch's threshold_backward, with no RuntimeWarning."""
    x = np.array([np.nan, -1.0, 0.0, 2.0, -3.0, 5.0], dtype)
    dout = np.array([1.0, np.inf, np.nan, np.nan, -np.inf, 4.0], dtype)
    r = ReLU()
    r.forward(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dx = r.backward(dout)
    assert dx.dtype == dtype
    np.testing.assert_array_equal(dx, [1.0, 0.0, 0.0, np.nan, 0.0, 4.0])
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).backward(torch.tensor(dout))
    np.testing.assert_array_equal(dx, xt.grad.numpy())


@pytest.mark.parametrize("onehot", [False, True])
def test_softmax_with_loss_grad_check_and_shared_loss(onehot):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 4))
    labels = rng.integers(0, 4, 5)
    t = np.eye(4)[labels] if onehot else labels
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    assert isinstance(loss, float)
    assert loss == pytest.approx(float(softmax_cross_entropy(x, t)), rel=1e-12)
    p = np.exp(x) / np.exp(x).sum(1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(5), labels])), rel=1e-12)
    dx = layer.backward()
    num = numerical_gradient(lambda _: layer.forward(x, t), x)
    assert rel_error(dx, num) <= TOL
    layer.forward(x, t)
    np.testing.assert_allclose(layer.backward(2.5), 2.5 * dx)


def test_softmax_with_loss_huge_logits_and_bad_labels():
    layer = SoftmaxWithLoss()
    loss = layer.forward(np.array([[1e4, -1e4, 0.0]]), np.array([1]))
    assert loss == pytest.approx(2e4)
    dx = layer.backward()
    assert np.all(np.isfinite(dx))
    with pytest.raises(ValueError, match=r"labels in \[0, 3\)"):
        layer.forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="finite"):
        layer.forward(np.array([[np.nan, 0.0, 1.0]]), np.array([0]))
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        layer.forward(np.zeros((2, 3)), np.zeros((2, 4)))


def test_mean_squared_loss_layer():
    rng = np.random.default_rng(5)
    y, t = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    layer = MeanSquaredLoss()
    assert layer.forward(y, t) == pytest.approx(np.mean((y - t) ** 2))
    dy = layer.backward()
    assert rel_error(dy, numerical_gradient(lambda _: layer.forward(y, t), y)) <= TOL


def _two_layer_net(rng, dtype=np.float64):
    return Sequential(
        Affine(rng.standard_normal((6, 5)).astype(dtype), rng.standard_normal(5).astype(dtype) * 0.1),
        ReLU(),
        Affine(rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal(3).astype(dtype) * 0.1),
    )


def test_sequential_two_layer_net_grad_check():
    rng = np.random.default_rng(6)
    net = _two_layer_net(rng)
    x = rng.standard_normal((4, 6))
    t = rng.integers(0, 3, 4)
    assert isinstance(net.loss_layer, SoftmaxWithLoss)
    assert list(net.params) == ["0.W", "0.b", "2.W", "2.b"] == list(net.grads)
    net.loss(x, t)
    dx = net.backward()
    assert dx.shape == x.shape
    grads = {k: v.copy() for k, v in net.grads.items()}
    f = lambda _: net.loss(x, t)
    for k, p in net.params.items():
        assert rel_error(grads[k], numerical_gradient(f, p)) <= TOL, k
    assert rel_error(dx, numerical_gradient(f, x)) <= TOL
    g = net.gradient(x, t)  # skips the first layer's dx, same parameter gradients
    for k in grads:
        np.testing.assert_allclose(g[k], grads[k], rtol=1e-12)


def test_sequential_params_are_live_and_modes():
    rng = np.random.default_rng(7)
    net = _two_layer_net(rng)
    net.params["0.W"][...] = 0.0
    assert np.all(net.layers[0].params["W"] == 0)
    assert net.training and all(layer.training for layer in net.layers)
    assert net.eval() is net and not net.training
    assert all(not layer.training for layer in net.layers + [net.loss_layer])
    assert net.train() is net and all(layer.training for layer in net.layers)
    assert net.layers[0].eval() is net.layers[0] and not net.layers[0].training
    net.train(False)
    assert not any(layer.training for layer in net.layers)
    x = rng.standard_normal((5, 6))
    assert np.array_equal(net.predict(x), net.forward(x))


def test_sequential_accuracy():
    net = Sequential(Affine(np.eye(3), np.zeros(3)))
    x = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 0, 0]])
    assert net.accuracy(x, np.array([0, 1, 2, 1])) == pytest.approx(0.75)
    assert net.accuracy(x, np.eye(3)[[0, 1, 2, 0]]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="targets"):
        net.accuracy(x, np.array([0, 1]))


def test_mlp_builder():
    net = MLP([4, 8, 3], activation="tanh", seed=1)
    assert [type(layer).__name__ for layer in net.layers] == ["Affine", "Tanh", "Affine"]
    assert net.params["0.W"].dtype == np.float32 and net.params["0.W"].shape == (4, 8)
    again = MLP([4, 8, 3], activation="tanh", seed=1)
    assert np.array_equal(net.params["2.W"], again.params["2.W"])
    with pytest.raises(ValueError, match="activation"):
        MLP([4, 3], activation="swish")
    with pytest.raises(ValueError, match="at least 2"):
        MLP([4])
