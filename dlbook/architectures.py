"""Classic CNN architectures as data, and a table of shapes and parameter counts —
book page: docs/04-cnn-rnn/cnn-architectures.md (the lab docs/labs/lenet-digits.ipynb trains :func:`lenet`).

Two kinds of description:

- **specs** (:class:`Conv`, :class:`Pool`, :class:`FC`, :class:`Inception`, :class:`Residual`, ...):
  shape-only descriptions. :func:`architecture_table` walks them from an input shape and
  computes every layer's output shape and parameter count without allocating any weights,
  so VGG-16's 138 million parameters cost nothing. :func:`lenet_spec` (the course's LeNet),
  :func:`lenet5_spec` (LeNet-5), :func:`alexnet_spec` (one tower or two GPUs), :func:`vgg_spec`
  (configurations A, A-LRN, B, C, D, E), :data:`INCEPTION_3A`.
- **models**: :func:`lenet` builds a trainable :class:`dlbook.models.Sequential` of real layers
  (:class:`dlbook.layers.Conv2d` ...); :func:`simple_convnet` is *Deep Learning from Scratch*'s
  SimpleConvNet. :func:`architecture_table` also accepts such a model (it runs one zero sample).

Parameter counts include biases. Shapes are (C, H, W) per sample, or (D,) after flattening.
"""

from dataclasses import dataclass

import numpy as np

from . import init
from ._validate import check_positive_int
from .conv import conv_output_size

__all__ = [
    "Conv", "Pool", "FC", "Flatten", "Act", "LRN", "Inception", "Residual",
    "Row", "Table", "architecture_table",
    "lenet_spec", "lenet5_spec", "alexnet_spec", "vgg_spec", "VGG_CONFIGS", "INCEPTION_3A", "RESNET_BLOCK",
    "lenet", "simple_convnet",
]


def _out(size, k, stride, pad, what):
    """Floor output size (as conv2d computes it); ValueError when the window does not fit."""
    if size + 2 * pad < k:
        raise ValueError(f"{what}: window {k} larger than padded input {size} + 2*{pad}")
    return (size + 2 * pad - k) // stride + 1


def _need_chw(shape, what):
    if len(shape) != 3:
        raise ValueError(f"{what}: expected a (C, H, W) input, got {shape}")
    return shape


@dataclass(frozen=True)
class Conv:
    """K filters of size x size: (C, H, W) -> (K, OH, OW); K*(C/groups)*R*S + K params.

    ``groups`` splits the channels into that many independent halves (thirds, ...): each filter
    sees only the C/groups input channels of its own group. AlexNet's two-GPU layers are
    ``groups=2`` (:func:`alexnet_spec`); C and K must both be multiples of ``groups``.
    """

    filters: int
    size: int
    stride: int = 1
    pad: int = 0
    name: str = ""
    groups: int = 1

    def label(self):
        if self.name:
            return self.name
        return (f"conv{self.size}-{self.filters}" + (f" /{self.stride}" if self.stride > 1 else "")
                + (f" g{self.groups}" if self.groups > 1 else ""))

    def _check_groups(self, C):
        check_positive_int(self.groups, "groups")
        if C % self.groups or self.filters % self.groups:
            raise ValueError(f"{self.label()}: {C} input channels and {self.filters} filters "
                             f"must both be multiples of groups={self.groups}")

    def out_shape(self, s):
        C, H, W = _need_chw(s, self.label())
        self._check_groups(C)
        return (self.filters, _out(H, self.size, self.stride, self.pad, self.label()),
                _out(W, self.size, self.stride, self.pad, self.label()))

    def params(self, s):
        self._check_groups(s[0])
        return self.filters * (s[0] // self.groups) * self.size * self.size + self.filters


@dataclass(frozen=True)
class Pool:
    """Max (or average) pooling: channels kept, no parameters. stride defaults to size."""

    size: int = 2
    stride: int | None = None
    kind: str = "max"
    pad: int = 0
    name: str = ""

    def label(self):
        st = self.stride or self.size
        return self.name or f"{self.kind}pool{self.size}" + (f" /{st}" if st != self.size else "")

    def out_shape(self, s):
        C, H, W = _need_chw(s, self.label())
        st = self.stride or self.size
        return (C, _out(H, self.size, st, self.pad, self.label()), _out(W, self.size, st, self.pad, self.label()))

    def params(self, s):
        return 0


@dataclass(frozen=True)
class FC:
    """Fully connected layer to ``units`` outputs (flattens its input): D*units + units params."""

    units: int
    name: str = ""

    def label(self):
        return self.name or f"FC-{self.units}"

    def out_shape(self, s):
        return (self.units,)

    def params(self, s):
        return int(np.prod(s)) * self.units + self.units


@dataclass(frozen=True)
class Flatten:
    """Spec of a flatten step: (C, H, W) -> (C*H*W,); no parameters."""

    name: str = "flatten"

    def label(self):
        return self.name

    def out_shape(self, s):
        return (int(np.prod(s)),)

    def params(self, s):
        return 0


@dataclass(frozen=True)
class Act:
    """An elementwise layer (ReLU, softmax, dropout ...): shape kept, no parameters."""

    name: str = "relu"

    def label(self):
        return self.name

    def out_shape(self, s):
        return tuple(s)

    def params(self, s):
        return 0


def LRN():
    """Local response normalisation (AlexNet, VGG A-LRN): shape kept, no parameters."""
    return Act("LRN")


@dataclass(frozen=True)
class Inception:
    """GoogLeNet's Inception block: four parallel branches concatenated along channels.

    1x1 conv (c1) | 1x1 (c3r) -> 3x3 (c3) | 1x1 (c5r) -> 5x5 (c5) | 3x3 max-pool /1 -> 1x1 (pp).
    Padding keeps H and W; output channels c1 + c3 + c5 + pp.
    """

    c1: int
    c3r: int
    c3: int
    c5r: int
    c5: int
    pp: int
    name: str = "inception"

    def label(self):
        return self.name

    def branches(self, s):
        C, H, W = _need_chw(s, self.name)
        conv = lambda k, cin, f: f * cin * k * k + f  # noqa: E731
        return {
            "1x1": ((self.c1, H, W), conv(1, C, self.c1)),
            "1x1 -> 3x3": ((self.c3, H, W), conv(1, C, self.c3r) + conv(3, self.c3r, self.c3)),
            "1x1 -> 5x5": ((self.c5, H, W), conv(1, C, self.c5r) + conv(5, self.c5r, self.c5)),
            "maxpool3 -> 1x1": ((self.pp, H, W), conv(1, C, self.pp)),
        }

    def out_shape(self, s):
        C, H, W = _need_chw(s, self.name)
        return (self.c1 + self.c3 + self.c5 + self.pp, H, W)

    def params(self, s):
        return sum(p for _, p in self.branches(s).values())


@dataclass(frozen=True)
class Residual:
    """ResNet's basic block: two 3x3 convs C -> C (padding 1) plus the identity shortcut.

    The shortcut has no parameters; the sum needs matching shapes, so the output is (C, H, W).
    """

    size: int = 3
    name: str = "residual block"

    def label(self):
        return self.name

    def out_shape(self, s):
        return _need_chw(s, self.name)

    def params(self, s):
        C = s[0]
        return 2 * (C * C * self.size * self.size + C)


@dataclass(frozen=True)
class Row:
    """One line of an architecture table: layer name, output shape (without the batch axis), parameter count."""

    name: str
    output_shape: tuple
    params: int


class Table(list):
    """Rows of (name, output_shape, params); ``total_params``; ``str()`` gives a text table."""

    @property
    def total_params(self):
        return sum(r.params for r in self)

    def __str__(self):
        w = max([len(r.name) for r in self] + [5])
        lines = [f"{'layer':<{w}}  {'output shape':<16} {'params':>12}"]
        for r in self:
            lines.append(f"{r.name:<{w}}  {str(r.output_shape):<16} {r.params:>12,}")
        lines.append(f"{'total':<{w}}  {'':<16} {self.total_params:>12,}")
        return "\n".join(lines)

    def markdown(self):
        lines = ["| layer | output shape | params |", "|---|---|---:|"]
        lines += [f"| {r.name} | {r.output_shape} | {r.params:,} |" for r in self]
        lines.append(f"| **total** | | **{self.total_params:,}** |")
        return "\n".join(lines)


def architecture_table(layers, input_shape):
    """Output shape and parameter count of every layer.

    layers: a list of specs (:class:`Conv`, :class:`Pool`, :class:`FC`, ...) or a model with
    ``.layers`` (e.g. :func:`lenet`) / a list of :class:`dlbook.layers.Layer`;
    input_shape: one sample's shape, e.g. (3, 224, 224) -> :class:`Table`.
    For real layers the shapes come from one forward pass of a zero sample.
    """
    shape = tuple(int(v) for v in input_shape)
    for v in shape:
        check_positive_int(v, "input_shape entries")
    layers = list(getattr(layers, "layers", layers))
    table = Table()
    if layers and not hasattr(layers[0], "out_shape"):
        x = np.zeros((1, *shape), dtype=np.float32)
        for layer in layers:
            x = layer.forward(x)
            name = type(layer).__name__
            params = int(sum(p.size for p in layer.params.values()))
            table.append(Row(name, tuple(x.shape[1:]), params))
        return table
    for spec in layers:
        params = spec.params(shape)
        shape = spec.out_shape(shape)
        table.append(Row(spec.label(), tuple(shape), int(params)))
    return table


# ----------------------------------------------------------------------------- the classic networks


def lenet_spec():
    """The course's LeNet (32x32x1 input): two conv-pool stages with 20 and 50 filters of 5x5,
    FC-500 with ReLU, FC-10 into softmax -> 656,080 parameters.

    This is not LeCun's LeNet-5 (:func:`lenet5_spec`) but the wider variant of Caffe's MNIST
    tutorial network (20/50/500 units), here on the course's 32x32 input.
    """
    return [Conv(20, 5), Pool(2), Conv(50, 5), Pool(2), FC(500), Act("relu"), FC(10), Act("softmax")]


def lenet5_spec():
    """LeNet-5 (LeCun, Bottou, Bengio and Haffner 1998) as usually re-implemented, 32x32x1 input:
    C1 6@5x5, S2 2x2 average pooling, C3 16@5x5, S4, C5 120@5x5 (a convolution that leaves 1x1
    maps), F6 84, 10 outputs; tanh after C1, C3, C5 and F6 -> 61,706 parameters.

    The 1998 paper connected each C3 map to only some of S2's maps, gave the subsampling layers
    a trainable weight and bias each, and ended in RBF units; it reports about 60,000
    parameters. This spec uses full connections and plain average pooling.
    """
    tanh = Act("tanh")
    return [
        Conv(6, 5), tanh, Pool(2, kind="avg"),
        Conv(16, 5), tanh, Pool(2, kind="avg"),
        Conv(120, 5), tanh,
        FC(84), tanh,
        FC(10),
    ]


def alexnet_spec(groups=1):
    """AlexNet (Krizhevsky, Sutskever and Hinton 2012): 227x227x3 input (224 in the paper's text
    does not divide evenly), 96@11x11 stride 4, overlapping 3x3 stride-2 max pooling, LRN,
    three FC layers (4096, 4096, 1000).

    ``groups=1``: one tower, every convolution sees all its input channels -> 62,378,344 params.
    ``groups=2``: the paper's two-GPU network. Each GPU held half of every layer's filters;
    conv2, conv4 and conv5 saw only the channels on their own GPU (``Conv(..., groups=2)``),
    while conv3 and the FC layers read both halves -> 60,965,224 params ("60 million").
    Shapes are the same either way.
    """
    if groups not in (1, 2):
        raise ValueError(f"alexnet_spec: groups must be 1 (one tower) or 2 (two GPUs), got {groups!r}")
    return [
        Conv(96, 11, stride=4), Act("relu"), LRN(), Pool(3, 2),
        Conv(256, 5, pad=2, groups=groups), Act("relu"), LRN(), Pool(3, 2),
        Conv(384, 3, pad=1), Act("relu"),
        Conv(384, 3, pad=1, groups=groups), Act("relu"),
        Conv(256, 3, pad=1, groups=groups), Act("relu"), Pool(3, 2),
        FC(4096), Act("relu"), Act("dropout"),
        FC(4096), Act("relu"), Act("dropout"),
        FC(1000), Act("softmax"),
    ]


# VGG's configuration table (Simonyan & Zisserman 2014, Table 1): numbers are 3x3 conv widths,
# "1x1-256" a 1x1 conv, "M" a 2x2 stride-2 max-pool, "LRN" local response normalisation.
VGG_CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "A-LRN": [64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, "1x1-256", "M", 512, 512, "1x1-512", "M",
          512, 512, "1x1-512", "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}


def vgg_spec(config="D", with_activations=False):
    """VGG configuration A, A-LRN, B, C, D (VGG-16) or E (VGG-19) for a 224x224x3 input.

    All 3x3 convolutions have stride 1, padding 1; pooling is 2x2, stride 2; then
    FC-4096, FC-4096, FC-1000. ``with_activations`` adds the ReLU/softmax rows.
    """
    if config not in VGG_CONFIGS:
        raise ValueError(f"vgg_spec: expected a configuration in {list(VGG_CONFIGS)}, got {config!r}")
    relu = [Act("relu")] if with_activations else []
    out = []
    for item in VGG_CONFIGS[config]:
        if item == "M":
            out.append(Pool(2))
        elif item == "LRN":
            out.append(LRN())
        elif isinstance(item, str):  # "1x1-256"
            out += [Conv(int(item.split("-")[1]), 1)] + relu
        else:
            out += [Conv(item, 3, pad=1)] + relu
    out += [FC(4096)] + relu + [FC(4096)] + relu + [FC(1000)]
    if with_activations:
        out.append(Act("softmax"))
    return out


# GoogLeNet's first Inception block ("3a", Szegedy et al. 2014, Table 1) on a 192x28x28 input.
INCEPTION_3A = Inception(64, 96, 128, 16, 32, 32, name="inception (3a)")
# A ResNet-18/34 basic block on 64x56x56 maps.
RESNET_BLOCK = Residual()


# ----------------------------------------------------------------------------- trainable models


def lenet(input_shape=(1, 8, 8), classes=10, channels=(8, 16), hidden=64, size=3, seed=0, dtype=np.float32):
    """A LeNet-style CNN of real layers: [conv(size, pad size//2) -> ReLU -> maxpool 2] x 2 ->
    flatten -> affine(hidden) -> ReLU -> affine(classes), He-initialised.

    input_shape: (C, H, W) of one sample (the default fits scikit-learn's 8x8 digits)
    -> :class:`dlbook.models.Sequential` with a softmax cross-entropy loss.
    """
    from .layers import Conv2d, Flatten as FlattenLayer, MaxPool2d, ReLU
    from .models import Sequential

    rng = np.random.default_rng(seed)
    C, H, W = input_shape
    layers = []
    for K in channels:
        conv = Conv2d(init.he_normal((K, C, size, size), rng, dtype), np.zeros(K, dtype), pad=size // 2)
        layers += [conv, ReLU(), MaxPool2d(2)]
        C, H, W = K, conv_output_size(H, size, 1, size // 2) // 2, conv_output_size(W, size, 1, size // 2) // 2
        if H < 1 or W < 1:
            raise ValueError(f"lenet: input {input_shape} is too small for {len(channels)} conv-pool stages")
    D = C * H * W
    layers += [
        FlattenLayer(),
        _he_affine(D, hidden, rng, dtype), ReLU(),
        _he_affine(hidden, classes, rng, dtype),
    ]
    return Sequential(*layers)


def _he_affine(d, m, rng, dtype):
    from .layers import Affine

    return Affine(init.he_normal((d, m), rng, dtype), np.zeros(m, dtype=dtype))


def simple_convnet(input_shape=(1, 28, 28), filters=30, size=5, hidden=100, classes=10, seed=0, dtype=np.float32):
    """*Deep Learning from Scratch*'s SimpleConvNet: conv 30@5x5 -> ReLU -> maxpool 2 -> affine 100
    -> ReLU -> affine 10 (+ softmax loss), He-initialised (:func:`dlbook.init.he_normal`)."""
    from .layers import Conv2d, MaxPool2d, ReLU
    from .models import Sequential

    rng = np.random.default_rng(seed)
    C, H, W = input_shape
    conv_W = init.he_normal((filters, C, size, size), rng, dtype)
    OH, OW = (H - size + 1) // 2, (W - size + 1) // 2
    D = filters * OH * OW
    return Sequential(
        Conv2d(conv_W, np.zeros(filters, dtype)), ReLU(), MaxPool2d(2),
        _he_affine(D, hidden, rng, dtype), ReLU(),
        _he_affine(hidden, classes, rng, dtype),
    )
