"""dlbook.architectures: the classic networks' parameter counts and a trainable LeNet."""

import numpy as np
import pytest

from dlbook import architectures as A


def test_vgg_counts():
    counts = {c: A.architecture_table(A.vgg_spec(c), (3, 224, 224)).total_params for c in A.VGG_CONFIGS}
    # torchvision's vgg11/13/16/19 have exactly these counts
    assert counts == {"A": 132_863_336, "A-LRN": 132_863_336, "B": 133_047_848, "C": 133_638_952,
                      "D": 138_357_544, "E": 143_667_240}
    t = A.architecture_table(A.vgg_spec("D"), (3, 224, 224))
    assert t[-1].output_shape == (1000,) and t[-4].output_shape == (512, 7, 7)
    assert sum(r.name.startswith("conv") or r.name.startswith("FC") for r in t) == 16


def test_alexnet_lenet_inception_residual():
    t = A.architecture_table(A.alexnet_spec(), (3, 227, 227))
    assert t.total_params == 62_378_344
    assert t[0].output_shape == (96, 55, 55) and t[3].output_shape == (96, 27, 27)  # overlapping pool 3/2
    assert A.architecture_table(A.lenet_spec(), (1, 32, 32)).total_params == 656_080
    inc = A.architecture_table([A.INCEPTION_3A], (192, 28, 28))
    assert inc[0].output_shape == (256, 28, 28) and inc.total_params == 163_696
    assert A.architecture_table([A.RESNET_BLOCK], (64, 56, 56))[0].params == 2 * (64 * 64 * 9 + 64)
    assert "total" in str(inc) and "**163,696**" in inc.markdown()


def test_table_of_real_model_matches_spec_counts():
    model = A.lenet()
    t = A.architecture_table(model, (1, 8, 8))
    assert t.total_params == sum(p.size for p in model.params.values())
    assert t[-1].output_shape == (10,)


def test_bad_specs():
    with pytest.raises(ValueError, match="larger than padded input"):
        A.architecture_table([A.Conv(4, 7)], (1, 5, 5))
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        A.architecture_table([A.FC(10), A.Conv(4, 3)], (1, 5, 5))
    with pytest.raises(ValueError, match="configuration"):
        A.vgg_spec("F")


def test_lenet_learns_and_simple_convnet_steps():
    from dlbook.optim import Adam, SGD

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 1, 8, 8)).astype(np.float32)
    t = (x[:, 0, :4].sum(axis=(1, 2)) > 0).astype(int)  # a pattern a CNN can find
    model = A.lenet(classes=2)
    opt = Adam(0.01)
    first = model.loss(x, t)
    for _ in range(30):
        opt.update(model.params, model.gradient(x, t))
    assert model.loss(x, t) < 0.5 * first
    net = A.simple_convnet(input_shape=(1, 12, 12))
    loss = net.loss(rng.standard_normal((4, 1, 12, 12)).astype(np.float32), np.arange(4))
    SGD(0.1).update(net.params, net.gradient(np.zeros((4, 1, 12, 12), np.float32), np.arange(4)))
    assert np.isfinite(loss) and net.layers[0].params["W"].shape == (30, 1, 5, 5)
