"""dlbook.layers.recurrent: RNN, LSTM, LastStep, TimeAffine, TimeSoftmaxWithLoss."""

import numpy as np
import pytest

from dlbook import rnn
from dlbook.layers import LSTM, RNN, Affine, LastStep, TimeAffine, TimeSoftmaxWithLoss
from dlbook.models import Sequential
from dlbook.optim import Adam
from dlbook.gradcheck import numerical_gradient, rel_error


def num_grad(f, a, h=1e-5):
    """Central differences of the scalar ``f()`` w.r.t. every entry of ``a`` (perturbed in place, restored)."""
    return numerical_gradient(lambda _: f(), a, h)


def rel_error_norm(a, b):
    """Array-wise relative error ||a - b|| / (||a|| + ||b||): for whole-model checks, where a few
    entries of order 1e-5 (saturated gates) would otherwise measure the round-off of the
    central difference (about 1e-16 / h = 1e-11) rather than the gradient."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b)))


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_layer_matches_functional(cls):
    layer = cls.random(3, 4, seed=1, dtype=np.float64)
    layer.params["b"][:] = np.random.default_rng(0).standard_normal(layer.params["b"].shape)
    x = np.random.default_rng(2).standard_normal((2, 5, 3))
    h = layer.forward(x)
    p = layer.params
    zeros = np.zeros((2, 4))
    if cls is RNN:
        ref, cache = rnn.rnn_forward(x, zeros, p["Wx"], p["Wh"], p["b"])
    else:
        ref, _, cache = rnn.lstm_forward(x, zeros, zeros, p["Wx"], p["Wh"], p["b"])
    np.testing.assert_allclose(h, ref, atol=1e-14)
    dh = np.random.default_rng(3).standard_normal(h.shape)
    dx = layer.backward(dh)
    grads = rnn.rnn_backward(dh, cache) if cls is RNN else rnn.lstm_backward(dh, cache)
    np.testing.assert_allclose(dx, grads[0], atol=1e-14)
    np.testing.assert_allclose(layer.grads["Wx"], grads[-3], atol=1e-14)
    np.testing.assert_allclose(layer.grads["Wh"], grads[-2], atol=1e-14)
    np.testing.assert_allclose(layer.grads["b"], grads[-1], atol=1e-14)
    np.testing.assert_allclose(layer.dh0, grads[1], atol=1e-14)
    assert layer.grads.keys() == layer.params.keys() == {"Wx", "Wh", "b"}
    layer.input_grad = False
    layer.forward(x)
    assert layer.backward(dh) is None


def _check_model_gradients(model, x, t):
    rng = np.random.default_rng(99)
    for p in model.params.values():
        p[...] = rng.standard_normal(p.shape)
    model.loss(x, t)
    model.backward()
    analytic = {k: v.copy() for k, v in model.grads.items()}
    for key, p in model.params.items():
        num = num_grad(lambda: model.loss(x, t), p)
        assert rel_error_norm(analytic[key], num) <= 1e-8, key


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_many_to_one_model_gradients(cls):
    rng = np.random.default_rng(4)
    model = Sequential(
        cls.random(3, 4, seed=5, dtype=np.float64),
        LastStep(),
        Affine(rng.standard_normal((4, 3)), rng.standard_normal(3)),
    )
    x = rng.standard_normal((5, 6, 3))
    t = rng.integers(0, 3, 5)
    _check_model_gradients(model, x, t)


def test_many_to_many_model_gradients():
    rng = np.random.default_rng(6)
    model = Sequential(
        LSTM.random(2, 3, seed=7, dtype=np.float64),
        TimeAffine.random(3, 4, seed=8, dtype=np.float64),
        loss=TimeSoftmaxWithLoss(),
    )
    x = rng.standard_normal((3, 5, 2))
    t = rng.integers(0, 4, (3, 5))
    _check_model_gradients(model, x, t)
    dx = model.backward()
    assert dx.shape == x.shape


def test_time_softmax_loss_matches_per_step_mean():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 4))
    t = rng.integers(0, 4, (2, 3))
    loss = TimeSoftmaxWithLoss().forward(x, t)
    logp = x - np.log(np.exp(x).sum(-1, keepdims=True))
    expected = -np.mean(np.take_along_axis(logp, t[..., None], -1))
    assert abs(loss - expected) < 1e-12
    onehot = np.eye(4)[t]
    layer = TimeSoftmaxWithLoss()
    assert abs(layer.forward(x, onehot) - expected) < 1e-12
    assert layer.backward().shape == x.shape


def test_last_step_and_time_affine_shapes():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    last = LastStep()
    y = last.forward(x)
    np.testing.assert_array_equal(y, x[:, -1])
    dx = last.backward(np.ones((2, 4), np.float32))
    assert dx.shape == x.shape and dx.dtype == np.float32
    assert dx[:, :-1].sum() == 0 and dx[:, -1].sum() == 8
    ta = TimeAffine(np.ones((4, 5), np.float32), np.zeros(5, np.float32))
    out = ta.forward(x)
    assert out.shape == (2, 3, 5) and out.dtype == np.float32
    np.testing.assert_allclose(out[1, 2], x[1, 2].sum())
    assert ta.backward(np.ones_like(out)).shape == x.shape
    np.testing.assert_allclose(ta.grads["b"], np.full(5, 6.0))


def test_stateful_layer_continues_the_sequence():
    x = np.random.default_rng(10).standard_normal((2, 8, 3))
    full = LSTM.random(3, 4, seed=1, dtype=np.float64)
    h_full = full.forward(x)
    chunked = LSTM.random(3, 4, seed=1, dtype=np.float64, stateful=True)
    h1 = chunked.forward(x[:, :5])
    h2 = chunked.forward(x[:, 5:])
    np.testing.assert_allclose(np.concatenate([h1, h2], axis=1), h_full, atol=1e-14)
    chunked.reset_state()
    np.testing.assert_allclose(chunked.forward(x[:, :5]), h1, atol=1e-14)
    plain = RNN.random(3, 4, seed=1, dtype=np.float64)
    a = plain.forward(x[:, :5])
    np.testing.assert_allclose(plain.forward(x[:, :5]), a)  # not stateful: same start


def test_given_start_state_and_its_gradient():
    rng = np.random.default_rng(11)
    layer = LSTM.random(2, 3, seed=2, dtype=np.float64)
    x = rng.standard_normal((2, 4, 2))
    h0 = rng.standard_normal((2, 3))
    c0 = rng.standard_normal((2, 3))
    dh = rng.standard_normal((2, 4, 3))
    loss = lambda: float(np.sum(layer.forward(x, h0, c0) * dh))  # noqa: E731
    layer.forward(x, h0, c0)
    layer.backward(dh)
    assert rel_error(layer.dh0, num_grad(loss, h0)) <= 1e-7
    assert rel_error(layer.dc0, num_grad(loss, c0)) <= 1e-7


def test_float32_stays_float32_and_training_reduces_loss():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((64, 5, 2)).astype(np.float32)
    t = (x[:, 0, 0] > 0).astype(int)  # remember the sign of the first input
    model = Sequential(LSTM.random(2, 8, seed=3), LastStep(),
                       Affine(np.random.default_rng(4).uniform(-0.3, 0.3, (8, 2)).astype(np.float32),
                              np.zeros(2, np.float32)))
    assert model.forward(x).dtype == np.float32
    opt = Adam(lr=0.05)
    first = model.loss(x, t)
    for _ in range(30):
        grads = model.gradient(x, t)
        assert all(g.dtype == np.float32 for g in grads.values())
        opt.update(model.params, grads)
    assert model.loss(x, t) < 0.5 * first
    assert model.accuracy(x, t) > 0.9


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: RNN(np.zeros((3, 4)), np.zeros((4, 5)), np.zeros(4)), r"Wh of shape \(H, H\), got \(4, 5\)"),
        (lambda: RNN(np.zeros((3, 5)), np.zeros((4, 4)), np.zeros(4)), r"Wx of shape \(D, H\) = \(D, 4\).*got \(3, 5\)"),
        (lambda: LSTM(np.zeros((3, 8)), np.zeros((2, 8)), np.zeros(7)), r"b of shape \(4H,\) = \(8,\).*got \(7,\)"),
        (lambda: RNN.random(0, 3), r"D: expected an integer >= 1, got 0"),
        (lambda: LSTM.random(2, 3, dtype=np.int32), r"expected dtype float32 or float64"),
        (lambda: TimeAffine(np.zeros((3, 2)), np.zeros(3)), r"b of shape \(2,\) to match W \(3, 2\), got \(3,\)"),
    ],
)
def test_bad_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_forward_and_backward():
    layer = LSTM.random(3, 4)
    with pytest.raises(ValueError, match=r"LSTM.backward: call forward first"):
        layer.backward(np.zeros((1, 1, 4)))
    with pytest.raises(ValueError, match=r"expected x of shape \(N, T, 3\), got \(2, 5, 4\)"):
        layer.forward(np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match=r"x: expected a 3-D \(N, T, D\) array, got shape \(5, 3\)"):
        layer.forward(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"h0 of shape \(N, H\) = \(2, 4\).*got \(2, 3\)"):
        layer.forward(np.zeros((2, 5, 3)), h0=np.zeros((2, 3)))
    layer.forward(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"dh must be \(N, T, H\) = \(2, 5, 4\)"):
        layer.backward(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"LastStep.forward: x: expected a 3-D"):
        LastStep().forward(np.zeros((2, 3)))
    last = LastStep()
    last.forward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"expected dout of shape \(2, 4\), got \(2, 3\)"):
        last.backward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expected x of shape \(N, T, 3\), got \(2, 2, 4\)"):
        TimeAffine(np.zeros((3, 2)), np.zeros(2)).forward(np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match=r"labels of shape \(2, 3\)"):
        TimeSoftmaxWithLoss().forward(np.zeros((2, 3, 4)), np.zeros((3, 2), int))


def test_repr_and_exports():
    import dlbook.layers as L

    for name in ["RNN", "LSTM", "LastStep", "TimeAffine", "TimeSoftmaxWithLoss"]:
        assert hasattr(L, name)
    assert repr(LSTM.random(3, 4)) == "LSTM(D=3, H=4, dtype=float32)"
    layer = LSTM.random(3, 4, forget_bias=1.0)
    np.testing.assert_array_equal(layer.params["b"][4:8], 1.0)
    np.testing.assert_array_equal(layer.params["b"][:4], 0.0)
