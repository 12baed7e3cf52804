"""dlbook.rnn: fast vs reference, vs PyTorch, vs float64 numerical gradients, dtypes, bad input."""

import numpy as np
import pytest

from dlbook import rnn
from dlbook.gradcheck import numerical_gradient, rel_error


def num_grad(f, a, h=1e-5):
    """Central differences of the scalar ``f()`` w.r.t. every entry of ``a`` (perturbed in place, restored)."""
    return numerical_gradient(lambda _: f(), a, h)


SIZES = [(1, 1, 1, 1), (2, 3, 4, 5), (3, 7, 2, 3), (5, 4, 6, 9)]  # (N, T, D, H), odd ones included


def make(N, T, D, H, gates, dtype=np.float64, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    G = gates * H
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * scale
    c0 = rng.standard_normal((N, H)) * scale
    Wx = rng.standard_normal((D, G)) * scale
    Wh = rng.standard_normal((H, G)) * scale
    b = rng.standard_normal(G) * scale
    dh = rng.standard_normal((N, T, H))
    return [a.astype(dtype) for a in (x, h0, c0, Wx, Wh, b, dh)]


# ---------------------------------------------------------------- fast == reference
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", SIZES)
def test_rnn_fast_matches_reference(size, dtype):
    x, h0, _, Wx, Wh, b, dh = make(*size, gates=1, dtype=dtype, seed=sum(size))
    h, cache = rnn.rnn_forward(x, h0, Wx, Wh, b)
    hr, cache_r = rnn.rnn_forward_reference(x, h0, Wx, Wh, b)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert h.shape == size[:2] + (size[3],) and h.dtype == dtype
    np.testing.assert_allclose(h, hr, atol=tol)
    grads = rnn.rnn_backward(dh, cache)
    ref = rnn.rnn_backward_reference(dh, cache_r)
    for name, g, r, like in zip(["dx", "dh0", "dWx", "dWh", "db"], grads, ref, [x, h0, Wx, Wh, b]):
        assert g.shape == like.shape and g.dtype == dtype, name
        np.testing.assert_allclose(g, r, atol=tol * 10, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", SIZES)
def test_lstm_fast_matches_reference(size, dtype):
    x, h0, c0, Wx, Wh, b, dh = make(*size, gates=4, dtype=dtype, seed=sum(size))
    h, c, cache = rnn.lstm_forward(x, h0, c0, Wx, Wh, b)
    hr, cr, cache_r = rnn.lstm_forward_reference(x, h0, c0, Wx, Wh, b)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert h.shape == c.shape == size[:2] + (size[3],)
    assert h.dtype == c.dtype == dtype
    np.testing.assert_allclose(h, hr, atol=tol)
    np.testing.assert_allclose(c, cr, atol=tol)
    grads = rnn.lstm_backward(dh, cache)
    ref = rnn.lstm_backward_reference(dh, cache_r)
    for name, g, r, like in zip(["dx", "dh0", "dc0", "dWx", "dWh", "db"], grads, ref, [x, h0, c0, Wx, Wh, b]):
        assert g.shape == like.shape and g.dtype == dtype, name
        np.testing.assert_allclose(g, r, atol=tol * 10, err_msg=name)


def test_step_functions_match_one_step_of_forward():
    x, h0, c0, Wx, Wh, b, _ = make(3, 1, 4, 5, gates=4)
    h, c, _ = rnn.lstm_forward(x, h0, c0, Wx, Wh, b)
    h1, c1 = rnn.lstm_step(x[:, 0], h0, c0, Wx, Wh, b)
    np.testing.assert_allclose(h[:, 0], h1, atol=1e-14)
    np.testing.assert_allclose(c[:, 0], c1, atol=1e-14)
    x, h0, _, Wx, Wh, b, _ = make(3, 1, 4, 5, gates=1)
    h, _ = rnn.rnn_forward(x, h0, Wx, Wh, b)
    np.testing.assert_allclose(h[:, 0], rnn.rnn_step(x[:, 0], h0, Wx, Wh, b), atol=1e-14)
    # The step is the course's formula, written out independently here.
    np.testing.assert_allclose(h[:, 0], np.tanh(x[:, 0] @ Wx + h0 @ Wh + b), atol=1e-14)


def test_lstm_step_is_the_course_equations():
    x, h0, c0, Wx, Wh, b, _ = make(2, 1, 3, 4, gates=4, seed=5)
    H = 4
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    a = x[:, 0] @ Wx + h0 @ Wh + b
    i, f, g, o = sig(a[:, :H]), sig(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
    c = f * c0 + i * g
    h = o * np.tanh(c)
    h1, c1 = rnn.lstm_step(x[:, 0], h0, c0, Wx, Wh, b)
    np.testing.assert_allclose(h1, h, atol=1e-14)
    np.testing.assert_allclose(c1, c, atol=1e-14)


def test_sigmoid_tanh_form():
    z = np.linspace(-40, 40, 81)
    np.testing.assert_allclose(rnn.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=0, atol=1e-15)
    assert rnn.sigmoid(np.float32(3)).dtype == np.float32


# ---------------------------------------------------------------- float64 numerical gradients
@pytest.mark.parametrize("size", [(2, 3, 3, 4), (3, 4, 2, 3)])
def test_rnn_gradient_check(size):
    x, h0, _, Wx, Wh, b, dh = make(*size, gates=1, seed=7)
    loss = lambda: float(np.sum(rnn.rnn_forward(x, h0, Wx, Wh, b)[0] * dh))  # noqa: E731
    _, cache = rnn.rnn_forward(x, h0, Wx, Wh, b)
    grads = rnn.rnn_backward(dh, cache)
    for name, g, a in zip(["dx", "dh0", "dWx", "dWh", "db"], grads, [x, h0, Wx, Wh, b]):
        assert rel_error(g, num_grad(loss, a)) <= 1e-7, name


@pytest.mark.parametrize("size", [(2, 3, 3, 4), (3, 4, 2, 3)])
def test_lstm_gradient_check(size):
    x, h0, c0, Wx, Wh, b, dh = make(*size, gates=4, seed=11)
    def loss():
        h, c, _ = rnn.lstm_forward(x, h0, c0, Wx, Wh, b)
        return float(np.sum(h * dh))

    _, _, cache = rnn.lstm_forward(x, h0, c0, Wx, Wh, b)
    grads = rnn.lstm_backward(dh, cache)
    for name, g, a in zip(["dx", "dh0", "dc0", "dWx", "dWh", "db"], grads, [x, h0, c0, Wx, Wh, b]):
        assert rel_error(g, num_grad(loss, a)) <= 1e-7, name


def test_lstm_gradient_check_with_cell_state_gradient():
    x, h0, c0, Wx, Wh, b, dh = make(2, 4, 3, 3, gates=4, seed=13)
    dc = np.random.default_rng(14).standard_normal(dh.shape)

    def loss():
        h, c, _ = rnn.lstm_forward(x, h0, c0, Wx, Wh, b)
        return float(np.sum(h * dh) + np.sum(c * dc))

    _, _, cache = rnn.lstm_forward(x, h0, c0, Wx, Wh, b)
    grads = rnn.lstm_backward(dh, cache, dc=dc)
    for name, g, a in zip(["dx", "dh0", "dc0", "dWx", "dWh", "db"], grads, [x, h0, c0, Wx, Wh, b]):
        assert rel_error(g, num_grad(loss, a)) <= 1e-7, name
    _, _, cache_r = rnn.lstm_forward_reference(x, h0, c0, Wx, Wh, b)
    for g, r in zip(grads, rnn.lstm_backward_reference(dh, cache_r, dc=dc)):
        np.testing.assert_allclose(g, r, atol=1e-12)
    with pytest.raises(ValueError, match=r"dc must be \(N, T, H\) = \(2, 4, 3\)"):
        rnn.lstm_backward(dh, cache, dc=dc[:, :2])


def test_gradient_check_can_fail():
    """The check is sharp: a wrong backward (forget gate gradient dropped) is caught."""
    x, h0, c0, Wx, Wh, b, dh = make(2, 3, 3, 4, gates=4, seed=11)
    loss = lambda: float(np.sum(rnn.lstm_forward(x, h0, c0, Wx, Wh, b)[0] * dh))  # noqa: E731
    _, _, cache = rnn.lstm_forward(x, h0, c0, Wx, Wh, b)
    dWh = rnn.lstm_backward(dh, cache)[4].copy()
    dWh[:, 4:8] = 0  # pretend the forget gate has no gradient
    assert rel_error(dWh, num_grad(loss, Wh)) > 1e-2


# ---------------------------------------------------------------- PyTorch as the oracle
def _torch_rnn(kind, x, h0, c0, Wx, Wh, b, dh):
    torch = pytest.importorskip("torch")
    N, T, D = x.shape
    H = h0.shape[1]
    cls = torch.nn.RNN if kind == "rnn" else torch.nn.LSTM
    net = cls(D, H, batch_first=True).double()
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(Wx.T.copy()))
        net.weight_hh_l0.copy_(torch.from_numpy(Wh.T.copy()))
        net.bias_ih_l0.copy_(torch.from_numpy(b))
        net.bias_hh_l0.zero_()
    xt = torch.from_numpy(x).requires_grad_()
    h0t = torch.from_numpy(h0[None].copy()).requires_grad_()
    c0t = torch.from_numpy(c0[None].copy()).requires_grad_()
    out, _ = net(xt, h0t) if kind == "rnn" else net(xt, (h0t, c0t))
    out.backward(torch.from_numpy(dh))
    grads = {
        "dx": xt.grad.numpy(), "dh0": h0t.grad.numpy()[0], "dc0": None if c0t.grad is None else c0t.grad.numpy()[0],
        "dWx": net.weight_ih_l0.grad.numpy().T, "dWh": net.weight_hh_l0.grad.numpy().T,
        "db": net.bias_ih_l0.grad.numpy(),
    }
    return out.detach().numpy(), grads


@pytest.mark.parametrize("size", [(2, 3, 4, 5), (4, 9, 3, 7), (1, 12, 1, 2)])
def test_rnn_matches_torch(size):
    x, h0, c0, Wx, Wh, b, dh = make(*size, gates=1, seed=21)
    out, tg = _torch_rnn("rnn", x, h0, c0, Wx, Wh, b, dh)
    h, cache = rnn.rnn_forward(x, h0, Wx, Wh, b)
    np.testing.assert_allclose(h, out, atol=1e-12)
    for name, g in zip(["dx", "dh0", "dWx", "dWh", "db"], rnn.rnn_backward(dh, cache)):
        np.testing.assert_allclose(g, tg[name], atol=1e-11, err_msg=name)


@pytest.mark.parametrize("size", [(2, 3, 4, 5), (4, 9, 3, 7), (1, 12, 1, 2)])
def test_lstm_matches_torch(size):
    x, h0, c0, Wx, Wh, b, dh = make(*size, gates=4, seed=31)
    out, tg = _torch_rnn("lstm", x, h0, c0, Wx, Wh, b, dh)
    h, c, cache = rnn.lstm_forward(x, h0, c0, Wx, Wh, b)
    np.testing.assert_allclose(h, out, atol=1e-12)
    for name, g in zip(["dx", "dh0", "dc0", "dWx", "dWh", "db"], rnn.lstm_backward(dh, cache)):
        np.testing.assert_allclose(g, tg[name], atol=1e-11, err_msg=name)


def test_lstm_matches_torch_float32_benchmark_size():
    """The benchmark's shape in float32: same result as torch to float32 precision."""
    x, h0, c0, Wx, Wh, b, dh = make(8, 20, 16, 32, gates=4, seed=41, scale=0.2)
    out, tg = _torch_rnn("lstm", x, h0, c0, Wx, Wh, b, dh)
    f32 = [a.astype(np.float32) for a in (x, h0, c0, Wx, Wh, b, dh)]
    h, c, cache = rnn.lstm_forward(*f32[:6])
    assert h.dtype == np.float32
    np.testing.assert_allclose(h, out, atol=2e-6)
    for name, g in zip(["dx", "dh0", "dc0", "dWx", "dWh", "db"], rnn.lstm_backward(f32[6], cache)):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, tg[name], atol=1e-4, rtol=1e-4, err_msg=name)


# ---------------------------------------------------------------- dtypes and bad input
def test_mixed_dtypes_promote_and_ints_work():
    x, h0, c0, Wx, Wh, b, _ = make(2, 3, 4, 5, gates=4, dtype=np.float32)
    h, c, _ = rnn.lstm_forward(x, h0, c0, Wx.astype(np.float64), Wh, b)
    assert h.dtype == np.float64
    h, _ = rnn.rnn_forward(np.ones((1, 2, 3), int), np.zeros((1, 2)), np.zeros((3, 2)), np.zeros((2, 2)), np.zeros(2))
    assert h.dtype == np.float64 and np.all(h == 0)


def test_outputs_cannot_corrupt_the_cache():
    x, h0, c0, Wx, Wh, b, dh = make(2, 3, 4, 5, gates=4)
    h, c, cache = rnn.lstm_forward(x, h0, c0, Wx, Wh, b)
    with pytest.raises(ValueError):
        h[0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        c[0, 0, 0] = 1.0


@pytest.mark.parametrize(
    "args, match",
    [
        (dict(x=np.zeros((2, 3))), r"x: expected a 3-D \(N, T, D\) array, got shape \(2, 3\)"),
        (dict(h0=np.zeros((3, 5))), r"h0 must be \(N, H\) = \(2, H\).*got \(3, 5\)"),
        (dict(Wx=np.zeros((5, 20))), r"Wx must be \(D, 4H\) = \(4, 20\).*got \(5, 20\)"),
        (dict(Wh=np.zeros((5, 15))), r"Wh must be \(H, 4H\) = \(5, 20\).*got \(5, 15\)"),
        (dict(b=np.zeros(5)), r"b must be \(4H,\) = \(20,\).*got \(5,\)"),
        (dict(c0=np.zeros((2, 4))), r"c0 must have the shape of h0.*\(2, 5\), got \(2, 4\)"),
        (dict(x=np.zeros((2, 0, 4))), r"every size must be >= 1"),
        (dict(x=np.array([["a"]])), r"x: expected a real numeric array"),
    ],
)
def test_lstm_bad_input(args, match):
    x, h0, c0, Wx, Wh, b, _ = make(2, 3, 4, 5, gates=4)
    kw = dict(x=x, h0=h0, c0=c0, Wx=Wx, Wh=Wh, b=b)
    kw.update(args)
    with pytest.raises(ValueError, match=match):
        rnn.lstm_forward(**kw)
    if "c0" not in args:
        with pytest.raises(ValueError):
            rnn.lstm_forward_reference(**kw)


@pytest.mark.parametrize(
    "args, match",
    [
        (dict(Wx=np.zeros((4, 6))), r"Wx must be \(D, H\) = \(4, 5\).*got \(4, 6\)"),
        (dict(Wh=np.zeros((5, 20))), r"Wh must be \(H, H\) = \(5, 5\).*got \(5, 20\)"),
        (dict(b=np.zeros((1, 5))), r"b must be \(H,\) = \(5,\).*got \(1, 5\)"),
        (dict(h0=np.zeros(5)), r"h0: expected a 2-D \(N, H\) array, got shape \(5,\)"),
    ],
)
def test_rnn_bad_input(args, match):
    x, h0, _, Wx, Wh, b, _ = make(2, 3, 4, 5, gates=1)
    kw = dict(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    kw.update(args)
    with pytest.raises(ValueError, match=match):
        rnn.rnn_forward(**kw)
    with pytest.raises(ValueError, match=match):
        rnn.rnn_forward_reference(**kw)


def test_backward_rejects_wrong_dh():
    x, h0, c0, Wx, Wh, b, dh = make(2, 3, 4, 5, gates=4)
    _, _, cache = rnn.lstm_forward(x, h0, c0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"dh must be \(N, T, H\) = \(2, 3, 5\).*got \(2, 3, 4\)"):
        rnn.lstm_backward(dh[..., :4], cache)
    _, cache = rnn.rnn_forward(x, h0, Wx[:, :5], Wh[:, :5], b[:5])
    with pytest.raises(ValueError, match=r"dh must be \(N, T, H\) = \(2, 3, 5\).*got \(3, 2, 5\)"):
        rnn.rnn_backward(np.zeros((3, 2, 5)), cache)


def test_step_bad_input():
    with pytest.raises(ValueError, match=r"x_t: expected a 2-D \(N, D\) array"):
        rnn.rnn_step(np.zeros(3), np.zeros((1, 2)), np.zeros((3, 2)), np.zeros((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"Wh must be \(H, 4H\)"):
        rnn.lstm_step(np.zeros((1, 3)), np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((3, 8)), np.zeros((2, 2)), np.zeros(8))


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_cache_buffers_are_recycled_only_when_free(kind):
    """Forward passes reuse their cache arrays, but never while an earlier cache or output lives."""
    gates = 1 if kind == "rnn" else 4
    x, h0, c0, Wx, Wh, b, dh = make(2, 3, 4, 5, gates=gates, seed=17)

    def forward(xx):
        if kind == "rnn":
            h, cache = rnn.rnn_forward(xx, h0, Wx, Wh, b)
            return h, cache, lambda: rnn.rnn_backward(dh, cache)
        h, _, cache = rnn.lstm_forward(xx, h0, c0, Wx, Wh, b)
        return h, cache, lambda: rnn.lstm_backward(dh, cache)

    h1, cache1, back1 = forward(x)
    expected_h1, expected_g1 = h1.copy(), [g.copy() for g in back1()]
    first = cache1.Z.ctypes.data
    h2, cache2, back2 = forward(2 * x)                 # cache1 alive: must not be overwritten
    assert cache2.Z.ctypes.data != first
    np.testing.assert_array_equal(h1, expected_h1)
    for g, e in zip(back1(), expected_g1):
        np.testing.assert_array_equal(g, e)
    del h1, cache1, back1
    h3, cache3, _ = forward(x)                         # now the first buffers are free again
    assert cache3.Z.ctypes.data == first
    np.testing.assert_array_equal(h3, expected_h1)
    h_keep = h3                                        # an output alone keeps its buffers too
    del cache3, h3
    h4, cache4, _ = forward(3 * x)
    assert cache4.Z.ctypes.data != first
    np.testing.assert_array_equal(h_keep, expected_h1)


def test_rational_tanh_float32_matches_numpy_and_exact_switch():
    """The float32 LSTM's vectorised tanh (Eigen's rational function) vs np.tanh, and the switch to exact."""
    from numba import njit

    @njit
    def apply(x):
        out = np.empty_like(x)
        for k in range(x.size):
            out[k] = rnn._fast._tanh_rational(x[k])
        return out

    x = np.concatenate([np.linspace(-12, 12, 200001), [0.0, 3e-4, -3e-4, 1e-30]]).astype(np.float32)
    y = apply(x)
    assert y.dtype == np.float32
    assert np.max(np.abs(y.astype(np.float64) - np.tanh(x.astype(np.float64)))) <= 5e-7
    assert np.all(np.abs(y) <= 1) and np.all(y[x > 8] == 1) and y[-1] == np.float32(1e-30)
    args = make(3, 4, 5, 6, gates=4, dtype=np.float32, seed=5)
    h, c, cache = rnn.lstm_forward(*args[:6])
    grads = rnn.lstm_backward(args[6], cache)
    h, c = h.copy(), c.copy()
    he, ce, cache_e = rnn.lstm_forward(*args[:6], exact_tanh=True)
    grads_e = rnn.lstm_backward(args[6], cache_e)
    np.testing.assert_allclose(h, he, atol=2e-6)
    np.testing.assert_allclose(c, ce, atol=2e-6)
    for g, ge in zip(grads, grads_e):
        np.testing.assert_allclose(g, ge, atol=2e-5)
