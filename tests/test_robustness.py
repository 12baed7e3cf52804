"""No silent wrong answers: each case a fuzzer once found gets a test here.

Every case either raises a ValueError/TypeError whose message names the argument, or returns
PyTorch's answer (written out here, so the test needs no torch).
"""

import numpy as np
import pytest

from dlbook.conv import conv2d
from dlbook.pooling import max_pool2d, max_pool2d_backward, max_pool2d_backward_reference, max_pool2d_reference
from dlbook.gradcheck import rel_error
from dlbook.graph import AddLayer, MulLayer
from dlbook.layers import Affine, MaxPool2d, MeanSquaredLoss, ResidualBlock, SoftmaxWithLoss
from dlbook.losses import log_softmax_xent, softmax_cross_entropy
from dlbook.optim import SGD, Adam, Momentum
from dlbook.rnn import lstm_backward, rnn_forward

nan, inf = np.nan, np.inf


# ------------------------------------------------------------------ kept arrays and bounds


def test_softmax_with_loss_keeps_its_own_copy_of_the_labels():
    layer = SoftmaxWithLoss()
    x = np.zeros((3, 4))
    t = np.array([0, 1, 2])
    layer.forward(x, t)
    t[:2] = [10**12, -(10**12)]  # the caller reuses its array: backward must not see it
    dx = layer.backward()
    expected = np.full((3, 4), 0.25 / 3)
    expected[[0, 1, 2], [0, 1, 2]] -= 1 / 3
    np.testing.assert_allclose(dx, expected)


def test_softmax_with_loss_checked_path_copies_labels_too():
    layer = SoftmaxWithLoss()
    t = np.array([[0.0, 1.0], [1.0, 0.0]])
    layer.forward(np.zeros((2, 2)), t)
    t[:] = 7.0
    np.testing.assert_allclose(layer.backward(), [[0.25, -0.25], [-0.25, 0.25]])


@pytest.mark.parametrize(
    "x, kind, t, message",
    [
        (np.zeros((2_000, 3)), "onehot", np.eye(3)[:1], r"expected one-hot t of shape \(2000, 3\), got \(1, 3\)"),
        (np.zeros((5, 3)), "onehot", np.ones((5, 2)), r"expected one-hot t of shape \(5, 3\)"),
        (np.zeros((5, 3)), "labels", np.array([0]), r"expected labels of shape \(5,\)"),
        (np.zeros((2, 3)), "labels", np.array([0.0, 1.0]), r"expected integer labels, got dtype float64"),
        (np.zeros((2, 3)), "probs", np.array([0, 1]), r"expected kind 'labels' or 'onehot', got 'probs'"),
        (np.zeros((2, 3)), "labels", np.array([0, 3]), r"class labels in \[0, 3\)"),
        (np.array([[0.0, nan]]), "labels", np.array([0]), r"expected finite logits"),
        (np.zeros(3), "labels", np.array([0]), r"expected x of shape \(N, C\)"),
    ],
)
def test_log_softmax_xent_checks_before_its_kernel_reads(x, kind, t, message):
    with pytest.raises((ValueError, TypeError), match=message):
        log_softmax_xent(x, kind, t)


def test_log_softmax_xent_integer_logits_are_not_truncated():
    loss, y = log_softmax_xent(np.array([[1, 2, 3]]), "labels", np.array([0]))
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, [[0.09003057, 0.24472847, 0.66524096]], rtol=1e-7)
    assert loss == pytest.approx(2.40760596444438)


def test_softmax_cross_entropy_overflowing_loss_is_inf_like_torch():
    # Finite logits whose loss does not fit in float64: torch returns inf, and so do we.
    assert softmax_cross_entropy(np.array([[1e308, -1e308]]), np.array([1])) == inf
    assert softmax_cross_entropy(np.array([[1e308, -1e308]]), np.array([0])) == 0.0


# ------------------------------------------------------------------ NaN and inf like torch


def test_max_pool_propagates_nan_wherever_it_is_in_the_window():
    for x in ([[1.0, nan], [2.0, 3.0]], [[nan, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, nan]]):
        x = np.array(x)[None, None]
        assert np.isnan(max_pool2d(x, 2)).all()
        assert np.isnan(max_pool2d_reference(x, 2)).all()
        assert np.isnan(MaxPool2d(2).forward(x)).all()


def test_max_pool_backward_routes_the_gradient_to_the_last_nan_like_torch():
    # torch.nn.functional.max_pool2d: the index moves to every NaN it meets; ties keep the first max.
    cases = [
        ([[1.0, nan], [nan, 3.0]], [[0, 0], [1, 0]]),
        ([[nan, 1.0], [2.0, 3.0]], [[1, 0], [0, 0]]),
        ([[1.0, 2.0], [2.0, 1.0]], [[0, 1], [0, 0]]),
    ]
    for x, grad in cases:
        x = np.array(x)[None, None]
        dy = np.ones((1, 1, 1, 1))
        np.testing.assert_array_equal(max_pool2d_backward(dy, x, 2)[0, 0], grad)
        np.testing.assert_array_equal(max_pool2d_backward_reference(dy, x, 2)[0, 0], grad)


@pytest.mark.parametrize("method", ["direct", "gemm"])
def test_inf_weight_on_a_padding_tap_gives_nan_on_every_path(method):
    w = np.zeros((8, 1, 3, 3))
    w[0, 0, 0, 0] = inf
    y = conv2d(np.ones((1, 1, 4, 4)), w, stride=2, pad=1, method=method)
    np.testing.assert_array_equal(np.isnan(y[0, 0]), [[True, True], [True, False]])
    assert y[0, 0, 1, 1] == inf


# ------------------------------------------------------------------ optimizers


@pytest.mark.parametrize("opt", [SGD(0.1), Momentum(0.1), Adam(0.1)], ids=repr)
def test_optimizers_refuse_what_they_cannot_update(opt):
    ro = np.ones(2)
    ro.flags.writeable = False
    bad = [
        ({"w": np.array([1, 2])}, {"w": np.ones(2)}, TypeError, r"params\['w'\].*float32 or float64.*int64"),
        ({"w": np.ones(2, np.float16)}, {"w": np.ones(2)}, TypeError, r"params\['w'\].*float16"),
        ({"w": ro}, {"w": np.ones(2)}, ValueError, r"params\['w'\] to be writeable"),
        ({"w": np.ones(2)}, {"w": np.ones(2) * 1j}, ValueError, r"grads\['w'\].*complex128"),
        ({"w": np.ones(2)}, {"w": np.ones(3)}, ValueError, r"grads\['w'\] of shape \(2,\), got \(3,\)"),
        ({"w": np.ones(2)}, {"v": np.ones(2)}, ValueError, r"differing keys"),
    ]
    for params, grads, exc, message in bad:
        with pytest.raises(exc, match=message):
            opt.update(params, grads)


@pytest.mark.parametrize("cls", [SGD, Momentum, Adam])
def test_a_rejected_update_changes_nothing(cls):
    opt = cls(0.1)
    params = {"a": np.ones(3), "b": np.ones(2)}
    opt.update(params, {"a": np.ones(3), "b": np.ones(2)})
    before = {k: v.copy() for k, v in params.items()}
    state_before = repr({k: {s: np.array(v).tolist() for s, v in st.items()} for k, st in opt.state.items()})
    with pytest.raises(ValueError):
        opt.update(params, {"a": np.ones(3), "b": np.ones(5)})  # the second grad is bad
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
    assert repr({k: {s: np.array(v).tolist() for s, v in st.items()} for k, st in opt.state.items()}) == state_before


def test_adam_counts_steps_per_parameter_and_refuses_a_changed_shape():
    opt = Adam(0.1)
    opt.update({"w": np.ones(2)}, {"w": np.ones(2)})
    assert opt.t == 1
    with pytest.raises(ValueError, match=r"changed shape from \(2,\) to \(3,\)"):
        opt.update({"w": np.ones(3)}, {"w": np.ones(3)})
    assert opt.t == 1
    # A parameter that joins later starts at step 1, as in torch.optim.Adam: its first step is lr * sign(g).
    w, v = np.ones(2), np.zeros(1)
    opt.update({"w": w, "v": v}, {"w": np.ones(2), "v": np.ones(1)})
    assert opt.state["w"]["step"] == 2 and opt.state["v"]["step"] == 1
    np.testing.assert_allclose(v, [-0.1], rtol=1e-6)


def test_optimizers_accept_array_like_grads():
    w = np.ones(2)
    SGD(0.5).update({"w": w}, {"w": [1.0, 2.0]})
    np.testing.assert_allclose(w, [0.5, 0.0])


# ------------------------------------------------------------------ layers and nodes


def test_add_and_mul_nodes_do_arithmetic_on_lists():
    np.testing.assert_array_equal(AddLayer().forward([1, 2], [3, 4]), [4, 6])
    np.testing.assert_array_equal(MulLayer().forward([1, 2], [3, 4]), [3, 8])
    assert AddLayer().forward(100, 10) == 110  # numbers stay numbers (the course's prices)


def test_residual_block_checks_dout_and_weights():
    block = ResidualBlock.init(2, rng=0, dtype=np.float64)
    block.forward(np.ones((3, 2, 4, 4)))
    with pytest.raises(ValueError, match=r"ResidualBlock.backward: expected dout of shape \(3, 2, 4, 4\), got \(1, 2, 4, 4\)"):
        block.backward(np.ones((1, 2, 4, 4)))
    with pytest.raises(ValueError, match=r"expected W1, W2 of shape \(C, C, R, R\)"):
        ResidualBlock(np.ones((2, 2)), np.ones(2), np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match=r"expected W1, W2 of shape \(C, C, R, R\)"):
        ResidualBlock([[1]], [1], [[1]], [1])


def test_affine_backward_refuses_complex_dout():
    layer = Affine(np.ones((3, 2)), np.zeros(2))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"dout: expected a real numeric array.*complex128"):
        layer.backward(np.ones((2, 2)) * 1j)


def test_big_endian_float32_stays_float32():
    layer = Affine(np.ones((3, 2), ">f4"), np.zeros(2, ">f4"))
    assert layer.forward(np.ones((1, 3), ">f4")).dtype == np.float32


def test_rel_error_refuses_complex():
    with pytest.raises(ValueError, match=r"a: expected a real numeric array.*complex"):
        rel_error(np.array([1j]), np.array([0j]))


def test_mean_squared_loss_on_empty_input():
    with pytest.raises(ValueError, match=r"MeanSquaredLoss: expected at least one element"):
        MeanSquaredLoss().forward(np.zeros(0), np.zeros(0))


def test_lstm_backward_given_an_rnn_cache():
    rng = np.random.default_rng(0)
    _, cache = rnn_forward(rng.standard_normal((1, 2, 3)), np.zeros((1, 4)), np.ones((3, 4)), np.ones((4, 4)), np.zeros(4))
    with pytest.raises(TypeError, match=r"lstm_backward: expected the LSTMCache returned by lstm_forward, got RNNCache"):
        lstm_backward(np.ones((1, 2, 4)), cache)
