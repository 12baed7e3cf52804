"""dlbook.init: fan-in/fan-out from dlbook's layouts, and the scale of each rule."""

import math

import numpy as np
import pytest

from dlbook import init
from dlbook.architectures import lenet
from dlbook.layers import LSTM, ResidualBlock
from dlbook.models import MLP


def test_fans_follow_dlbooks_layouts():
    assert init.fans((784, 100)) == (784, 100)            # Affine W (D, M)
    assert init.fans((6, 3, 5, 5)) == (75, 150)           # conv w (K, C, R, S)
    assert init.fans((64, 4 * 128)) == (64, 512)          # LSTM Wx (D, 4H)
    with pytest.raises(ValueError, match=r"expected a weight shape \(D, M\) or \(K, C, R, S\), got \(3,\)"):
        init.fans((3,))
    with pytest.raises(ValueError, match="expected an integer >= 1"):
        init.fans((0, 3))


@pytest.mark.parametrize(
    "fn, shape, std",
    [
        (init.he_normal, (400, 300), math.sqrt(2 / 400)),
        (init.he_uniform, (400, 300), math.sqrt(2 / 400)),
        (init.xavier_normal, (400, 300), math.sqrt(2 / 700)),
        (init.xavier_uniform, (400, 300), math.sqrt(2 / 700)),
        (init.he_normal, (32, 16, 3, 3), math.sqrt(2 / 144)),
        (init.xavier_normal, (32, 16, 3, 3), math.sqrt(2 / (144 + 288))),
    ],
)
def test_each_rule_has_its_standard_deviation(fn, shape, std):
    w = fn(shape, rng=0)
    assert w.shape == shape and w.dtype == np.float64
    assert abs(w.std() / std - 1) < 0.03
    assert abs(w.mean()) < 0.05 * std
    if "uniform" in fn.__name__:
        assert np.abs(w).max() <= math.sqrt(3) * std


def test_rng_seed_dtype():
    assert np.array_equal(init.he_normal((3, 4), rng=1), init.he_normal((3, 4), rng=np.random.default_rng(1)))
    assert not np.array_equal(init.he_normal((3, 4)), init.he_normal((3, 4)))  # None: fresh randomness
    assert init.xavier_normal((3, 4), rng=0, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="dtype: expected float32 or float64, got int32"):
        init.he_normal((3, 4), dtype=np.int32)


def test_models_and_layers_use_dlbook_init():
    rng = np.random.default_rng(0)
    mlp = MLP([5, 7, 3], seed=0, dtype=np.float64)
    np.testing.assert_array_equal(mlp.params["0.W"], init.he_normal((5, 7), rng))
    np.testing.assert_array_equal(mlp.params["2.W"], init.he_normal((7, 3), rng))
    rng = np.random.default_rng(0)
    tanh = MLP([5, 7, 3], activation="tanh", seed=0, dtype=np.float64)
    np.testing.assert_array_equal(tanh.params["0.W"], init.xavier_normal((5, 7), rng))
    custom = MLP([5, 3], init=lambda shape, rng, dtype: np.full(shape, 0.5, dtype))
    assert np.all(custom.params["0.W"] == 0.5)
    with pytest.raises(ValueError, match="expected init in"):
        MLP([5, 3], init="lecun")
    rng = np.random.default_rng(0)
    net = lenet(seed=0)
    np.testing.assert_array_equal(net.params["0.W"], init.he_normal((8, 1, 3, 3), rng, np.float32))
    block = ResidualBlock.init(4, rng=3, dtype=np.float64)
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(block.params["W1"], init.he_normal((4, 4, 3, 3), rng))
    lstm = LSTM.random(3, 5, seed=2, dtype=np.float64, forget_bias=0.0)
    np.testing.assert_array_equal(lstm.params["Wx"], init.xavier_uniform((3, 20), np.random.default_rng(2)))
