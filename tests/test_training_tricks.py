"""Making training work: weight decay, train/validation split, early stopping, Dropout, BatchNorm.

The torch comparisons skip without torch, except under CI (env CI set), where a missing torch fails.
"""

import os

import numpy as np
import pytest

from dlbook.data import train_val_split
from dlbook.gradcheck import numerical_gradient, rel_error
from dlbook.layers import Affine, BatchNorm, Dropout, ReLU
from dlbook.models import MLP, Sequential
from dlbook.optim import SGD, Adam, Momentum
from dlbook.train import fit


def _torch():
    try:
        import torch
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("torch is missing under CI: the torch comparisons must run there")
        pytest.skip("torch not installed")
    return torch


# ------------------------------------------------------------------ weight decay


@pytest.mark.parametrize("name", ["SGD", "Momentum", "Adam"])
def test_weight_decay_matches_torch_step_for_step(name):
    torch = _torch()
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3))
    grads = [rng.standard_normal((4, 3)) for _ in range(5)]
    ours = {"SGD": SGD(0.1, weight_decay=0.01), "Momentum": Momentum(0.1, 0.9, weight_decay=0.01),
            "Adam": Adam(0.01, weight_decay=0.01)}[name]
    tw = torch.tensor(w.copy(), requires_grad=True)
    theirs = {"SGD": lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.01),
              "Momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
              "Adam": lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.01)}[name]([tw])
    p = {"w": w}
    for g in grads:
        ours.update(p, {"w": g})
        tw.grad = torch.tensor(g)
        theirs.step()
        np.testing.assert_allclose(p["w"], tw.detach().numpy(), rtol=0, atol=1e-9)


def test_weight_decay_shrinks_weights_and_is_checked():
    w = np.ones(3)
    SGD(0.5, weight_decay=0.2).update({"w": w}, {"w": np.zeros(3)})
    np.testing.assert_allclose(w, 0.9)  # w - lr * wd * w
    with pytest.raises(ValueError, match="weight_decay"):
        SGD(0.1, weight_decay=-1)
    assert repr(Adam(weight_decay=0.1)).endswith("weight_decay=0.1)")


# ------------------------------------------------------------------ data split and early stopping


def test_train_val_split_is_shuffled_disjoint_and_complete():
    x, t = np.arange(50).reshape(25, 2), np.arange(25)
    (xt, tt), (xv, tv) = train_val_split(x, t, fraction=0.2, seed=0)
    assert len(tv) == 5 and len(tt) == 20
    assert sorted(np.concatenate([tt, tv]).tolist()) == list(range(25))
    np.testing.assert_array_equal(xt[:, 0] // 2, tt)  # rows stay with their labels
    assert tt.tolist() != sorted(tt.tolist())  # shuffled
    again = train_val_split(x, t, fraction=0.2, seed=0)
    np.testing.assert_array_equal(again[1][1], tv)
    for bad in (0, 1, 1.5, "x"):
        with pytest.raises(ValueError, match="fraction"):
            train_val_split(x, t, fraction=bad)
    with pytest.raises(ValueError, match="one sample per row"):
        train_val_split(x, t[:3])


def test_early_stopping_restores_the_best_epoch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 5)).astype(np.float32)
    t = rng.integers(0, 3, 40)  # random labels: the validation loss soon gets worse
    (xt, tt), (xv, tv) = train_val_split(x, t, 0.5, seed=1)
    model = MLP([5, 64, 3], seed=0)
    h = fit(model, SGD(0.5), xt, tt, epochs=60, batch_size=5, x_val=xv, t_val=tv, patience=3)
    assert h.best_epoch is not None and h.epochs == h.best_epoch + 4  # 3 epochs of patience
    assert min(h["val_loss"]) == h["val_loss"][h.best_epoch]
    assert model.loss(xv, tv) == pytest.approx(h["val_loss"][h.best_epoch], rel=1e-5)
    with pytest.raises(ValueError, match="needs validation data"):
        fit(model, SGD(0.1), xt, tt, epochs=1, batch_size=5, patience=2)


# ------------------------------------------------------------------ dropout


def test_dropout_mask_statistics_and_scaling():
    layer = Dropout(p=0.3, rng=0)
    x = np.ones((200, 500))
    y = layer.forward(x)
    assert abs(layer.mask.mean() - 0.7) < 0.01  # each unit kept with probability 1 - p
    assert set(np.unique(y)) == {0.0, 1 / 0.7}   # kept units scaled by 1 / (1 - p): same mean
    assert abs(y.mean() - 1) < 0.02


def test_dropout_gradient_flows_through_kept_units_only():
    layer = Dropout(p=0.5, rng=1)
    x = np.random.default_rng(2).standard_normal((4, 6))
    layer.forward(x)
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx != 0, layer.mask)
    np.testing.assert_allclose(dx[layer.mask], 2.0)
    g = np.random.default_rng(3).standard_normal(x.shape)
    scale = layer.scale.copy()
    num = numerical_gradient(lambda _: float(np.sum(x * scale * g)), x)  # the same mask each time
    assert rel_error(layer.backward(g), num) < 1e-7


def test_dropout_eval_is_identity_and_seeded_runs_repeat():
    layer = Dropout(0.5, rng=0).eval()
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(layer.forward(x), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    a, b = Dropout(0.5, rng=7), Dropout(0.5, rng=7)
    np.testing.assert_array_equal(a.forward(np.ones(20)), b.forward(np.ones(20)))
    with pytest.raises(ValueError, match=r"Dropout: p: expected a number in \[0, 1\), got 1"):
        Dropout(1)
    with pytest.raises(ValueError, match="call forward first"):
        Dropout().backward(np.ones(3))


# ------------------------------------------------------------------ batch normalisation


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2, 3)])
def test_batchnorm_matches_torch_in_both_modes(shape):
    torch = _torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 1
    dout = rng.standard_normal(shape)
    ours = BatchNorm(4)
    ours.params["gamma"][...] = rng.standard_normal(4)
    ours.params["beta"][...] = rng.standard_normal(4)
    cls = torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d
    theirs = cls(4, momentum=0.1, eps=1e-5).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.params["gamma"]))
        theirs.bias.copy_(torch.tensor(ours.params["beta"]))
    for training in (True, False):
        ours.train(training)
        theirs.train(training)
        tx = torch.tensor(x, requires_grad=True)
        ty = theirs(tx)
        ty.backward(torch.tensor(dout))
        np.testing.assert_allclose(ours.forward(x), ty.detach().numpy(), atol=1e-6)
        np.testing.assert_allclose(ours.backward(dout), tx.grad.numpy(), atol=1e-6)
        np.testing.assert_allclose(ours.grads["gamma"], theirs.weight.grad.numpy(), atol=1e-6)
        np.testing.assert_allclose(ours.grads["beta"], theirs.bias.grad.numpy(), atol=1e-6)
        np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), atol=1e-6)
        np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), atol=1e-6)
        theirs.weight.grad = theirs.bias.grad = None


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 2, 2)])
def test_batchnorm_gradient_check_float64(shape):
    rng = np.random.default_rng(1)
    layer = BatchNorm(3)
    layer.params["gamma"][...] = rng.standard_normal(3)
    x = rng.standard_normal(shape)
    g = rng.standard_normal(shape)

    def f(_):
        return float(np.sum(layer.forward(x) * g))

    layer.forward(x)
    dx = layer.backward(g)
    grads = {k: v.copy() for k, v in layer.grads.items()}
    assert rel_error(dx, numerical_gradient(f, x)) < 1e-7
    for k in ("gamma", "beta"):
        assert rel_error(grads[k], numerical_gradient(f, layer.params[k])) < 1e-7


def test_batchnorm_checks_and_trains_inside_a_model():
    with pytest.raises(ValueError, match=r"expected x of shape \(N, 3\) or \(N, 3, H, W\), got \(2, 4\)"):
        BatchNorm(3).forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="more than one value per feature"):
        BatchNorm(3).forward(np.ones((1, 3)))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 4)).astype(np.float32)
    t = (x[:, 0] > 0).astype(int)
    model = Sequential(Affine(rng.standard_normal((4, 16)) * 0.5, np.zeros(16)), BatchNorm(16), ReLU(),
                       Dropout(0.2), Affine(rng.standard_normal((16, 2)) * 0.5, np.zeros(2)))
    h = fit(model, SGD(0.1), x, t, epochs=30, batch_size=10)
    assert h["loss"][-1] < h["loss"][0] and h["train_acc"][-1] > 0.9
    assert not model.training or model.layers[1].training  # fit leaves the model in training mode
