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


def test_lenet5_and_the_courses_lenet():
    t5 = A.architecture_table(A.lenet5_spec(), (1, 32, 32))
    assert t5.total_params == 61_706  # LeNet-5 with full C3 connections (the 1998 paper: ~60,000)
    convs = [r for r in t5 if r.name.startswith("conv")]
    assert [r.output_shape for r in convs] == [(6, 28, 28), (16, 10, 10), (120, 1, 1)]
    assert [r.params for r in t5 if r.params] == [156, 2_416, 48_120, 10_164, 850]
    assert t5[-1].output_shape == (10,)
    course = A.architecture_table(A.lenet_spec(), (1, 32, 32))
    assert [r.params for r in course if r.params] == [520, 25_050, 625_500, 5_010]
    # Caffe's MNIST tutorial feeds the same 20/50/500 network 28x28 digits
    assert A.architecture_table(A.lenet_spec(), (1, 28, 28)).total_params == 431_080


def test_alexnet_one_tower_and_two_gpus():
    one = A.architecture_table(A.alexnet_spec(), (3, 227, 227))
    two = A.architecture_table(A.alexnet_spec(groups=2), (3, 227, 227))
    assert one.total_params == 62_378_344 and two.total_params == 60_965_224
    assert [r.output_shape for r in one] == [r.output_shape for r in two]
    halved = [(a.params, b.params) for a, b in zip(one, two) if a.params != b.params]
    # conv2, conv4, conv5 see half the channels: half the weights, all the biases
    assert halved == [(614_656, 307_456), (1_327_488, 663_936), (884_992, 442_624)]
    assert all(b - k == (a - k) // 2 for (a, b), k in zip(halved, (256, 384, 256)))
    with pytest.raises(ValueError, match="groups"):
        A.alexnet_spec(groups=3)


def test_grouped_conv_spec():
    assert A.Conv(8, 3, groups=2).params((4, 5, 5)) == 8 * 2 * 9 + 8
    assert A.Conv(8, 3, groups=2).label() == "conv3-8 g2"
    assert A.Conv(8, 3).params((4, 5, 5)) == 8 * 4 * 9 + 8
    with pytest.raises(ValueError, match="multiples of groups=2"):
        A.architecture_table([A.Conv(8, 3, groups=2)], (3, 5, 5))
    with pytest.raises(ValueError, match="multiples of groups=4"):
        A.architecture_table([A.Conv(6, 3, groups=4)], (4, 5, 5))


# torchvision's one-tower AlexNet (64/192/384/256/256 filters): the third AlexNet count, in
# cnn-architectures.md's exercise 4.
TORCHVISION_ALEXNET = [A.Conv(64, 11, stride=4, pad=2), A.Pool(3, 2), A.Conv(192, 5, pad=2), A.Pool(3, 2),
                       A.Conv(384, 3, pad=1), A.Conv(256, 3, pad=1), A.Conv(256, 3, pad=1), A.Pool(3, 2),
                       A.FC(4096), A.FC(4096), A.FC(1000)]


def test_torchvision_alexnet_count():
    assert A.architecture_table(TORCHVISION_ALEXNET, (3, 224, 224)).total_params == 61_100_840


def test_torchvision_alexnet_count_against_torchvision():
    tv = pytest.importorskip("torchvision")
    assert sum(p.numel() for p in tv.models.alexnet().parameters()) == 61_100_840


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
