"""Diagrams of chapter 4's CNN pages: the convolution window, many channels, pooling, architectures."""

import numpy as np

from ._draw import COLUMN_INCHES, grid as _grid, plt as _plt, stack as _stack

# English label -> its Chinese, for the Chinese edition's figures (one entry per word label;
# "{}" stands for a number, carried over).
LABELS_ZH = {
    # convolution_steps
    "the filter": "卷积核",
    "Convolution window at each position (stride {}, padding {})": "卷积窗口在每个位置（步幅 {}，填充 {}）",
    "Convolution window at each position (stride {}, padding {}, bias {})":
        "卷积窗口在每个位置（步幅 {}，填充 {}，偏置 {}）",
    # pooling
    "input {}x{}": "输入 {}x{}",
    "max pooling": "最大池化",
    "average pooling": "平均池化",
    "{}x{} pooling with stride {}": "{}x{} 池化，步幅 {}",
    # multichannel_convolution
    "input": "输入",
    "output": "输出",
    "filter {}": "卷积核 {}",
    "channel {}": "通道 {}",
    "(K, OH, OW) = ({}, {}, {})": "(K, OH, OW) = ({}, {}, {})",
    "each filter: one slice per input channel, the slices' results added into one map":
        "每个卷积核：每个输入通道对应一片，各片的结果叠加为一个输出通道",
    "A {}-channel input and {} filters of {} channels give {} output channels":
        "{} 通道的输入与 {} 个 {} 通道的卷积核得到 {} 个输出通道",
    "A {}-channel input and {} filters of {} channels give {} output channels (stride {}, padding {})":
        "{} 通道的输入与 {} 个 {} 通道的卷积核得到 {} 个输出通道（步幅 {}，填充 {}）",
    # architecture: one block per layer kind
    "conv {}x{}, {}": "卷积 {}x{}，{}",
    "conv {}x{}, {}, stride {}": "卷积 {}x{}，{}，步幅 {}",
    "conv {}x{}, {}, padding {}": "卷积 {}x{}，{}，填充 {}",
    "conv {}x{}, {}, stride {}, padding {}": "卷积 {}x{}，{}，步幅 {}，填充 {}",
    "max pool {}x{}": "最大池化 {}x{}",
    "avg pool {}x{}": "平均池化 {}x{}",
    "max pool {}x{}, stride {}": "最大池化 {}x{}，步幅 {}",
    "avg pool {}x{}, stride {}": "平均池化 {}x{}，步幅 {}",
    "FC {}": "全连接 {}",
    "flatten": "展平",
    "ReLU": "ReLU",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "softmax": "softmax",
    "dropout": "dropout",
    "LRN": "LRN",
    "inception": "Inception 模块",
    "residual block": "残差块",
    "The course's LeNet, one block per layer with its output shape": "课程中的 LeNet：每层一个方块，标出输出形状",
    "LeNet-5, one block per layer with its output shape": "LeNet-5：每层一个方块，标出输出形状",
    "A network, one block per layer with its output shape": "网络结构：每层一个方块，标出输出形状",
}


def convolution_steps(x, w, stride=1, pad=0, bias=0.0):
    """Every position of the window: the (padded) input with the window shaded, the products summed.

    x: (H, W), w: (R, S) -> a figure with one panel per output value; the sums come from
    :func:`dlbook.conv.conv2d`.
    """
    from ..conv import conv2d

    x, w = np.asarray(x, float), np.asarray(w, float)
    y = conv2d(x[None, None], w[None, None], np.array([bias]), stride=stride, pad=pad)[0, 0]
    xp = np.pad(x, pad)
    R, S = w.shape
    OH, OW = y.shape
    plt = _plt()
    panels = OH * OW + 1
    cols = min(panels, 5)
    rows = -(-panels // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(COLUMN_INCHES, 2.3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    first = axes.ravel()[0]
    _grid(first, w, 0, w.shape[0], highlight=np.ones(w.shape, bool), color="#ffe0b3", fontsize=9)
    first.set_xlim(-0.2, xp.shape[1] + 0.2), first.set_ylim(-1.6, xp.shape[0] + 0.2), first.set_aspect("equal")
    first.text(w.shape[1] / 2, -0.8, "the filter", ha="center", va="center", fontsize=10)
    for k, (i, j) in enumerate(((i, j) for i in range(OH) for j in range(OW)), start=1):
        ax = axes.ravel()[k]
        mask = np.zeros(xp.shape, bool)
        mask[i * stride : i * stride + R, j * stride : j * stride + S] = True
        _grid(ax, xp, 0, xp.shape[0], highlight=mask, fontsize=9)
        ax.set_xlim(-0.2, xp.shape[1] + 0.2), ax.set_ylim(-1.6, xp.shape[0] + 0.2), ax.set_aspect("equal")
        ax.text(xp.shape[1] / 2, -0.8, f"y[{i},{j}] = {y[i, j]:g}", ha="center", va="center", fontsize=10)
    what = f"stride {stride}, padding {pad}" + (f", bias {bias:g}" if bias else "")
    fig.suptitle(f"Convolution window at each position ({what})", fontsize=11)
    return fig


def pooling(x, size=2):
    """Max and average pooling of one channel x (H, W) side by side, windows coloured alike.

    The outputs come from :func:`dlbook.pooling.max_pool2d` and :func:`dlbook.pooling.avg_pool2d`.
    """
    from ..pooling import avg_pool2d, max_pool2d

    x = np.asarray(x, float)
    mx = max_pool2d(x[None, None], size)[0, 0]
    av = avg_pool2d(x[None, None], size)[0, 0]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, 2.6))
    H, W = x.shape
    colours = ["#c9dcff", "#ffe0b3", "#d4f0c8", "#f3cbe0"]
    x = x.astype(float)
    for i in range(mx.shape[0]):
        for j in range(mx.shape[1]):
            mask = np.zeros(x.shape, bool)
            mask[i * size : (i + 1) * size, j * size : (j + 1) * size] = True
            c = colours[(i * mx.shape[1] + j) % len(colours)]
            _grid(ax, np.where(mask, x, np.nan), 0, H, highlight=mask, color=c, fmt="{:g}")
            for x0, out in ((W + 2, mx), (W + 2 + mx.shape[1] + 2, av)):
                cell = np.full(out.shape, np.nan)
                cell[i, j] = out[i, j]
                _grid(ax, cell, x0, H - (H - out.shape[0]) / 2, highlight=~np.isnan(cell), color=c, fmt="{:g}")
    ax.text(W / 2, H + 0.35, f"input {H}x{W}", ha="center", fontsize=10)
    ax.text(W + 2 + mx.shape[1] / 2, H + 0.35 - (H - mx.shape[0]) / 2, "max pooling", ha="center", fontsize=10)
    ax.text(W + 4 + mx.shape[1] * 1.5, H + 0.35 - (H - av.shape[0]) / 2, "average pooling", ha="center", fontsize=10)
    ax.set_xlim(-0.2, W + 4 + 2 * mx.shape[1] + 0.2), ax.set_ylim(-0.2, H + 1.0), ax.set_aspect("equal")
    ax.axis("off")
    fig.suptitle(f"{size}x{size} pooling with stride {size}", fontsize=11)
    return fig


# Light fills, one per sheet position: input channel c and every filter's slice c share a colour.
CHANNEL_FILLS = ("#dbe6fa", "#e2f3da", "#fbe3cf", "#eadcf5", "#f6f0c8")


def multichannel_convolution(x, w, b=None, stride=1, pad=0):
    """Convolution with many channels: the C input channels as stacked sheets, K filters of C
    slices each (slice c goes with channel c, in the same colour), and the K output maps, whose
    numbers come from :func:`dlbook.conv.conv2d`.

    x: (C, H, W), w: (K, C, R, S), b: (K,) or None, stride and pad: ints -> a figure labelled
    (C, H, W) * (K, C, R, S) -> (K, OH, OW); small examples only (K <= 3, padded H and W <= 8).
    """
    from ..conv import conv2d

    x, w = np.asarray(x, float), np.asarray(w, float)
    if x.ndim != 3 or w.ndim != 4:
        raise ValueError(f"multichannel_convolution: expected x (C, H, W) and w (K, C, R, S), "
                         f"got {x.shape} and {w.shape}")
    C, K, R = x.shape[0], w.shape[0], w.shape[2]
    stride, pad = int(stride), int(pad)
    y = conv2d(x[None], w, None if b is None else np.asarray(b, float), stride=stride, pad=pad)[0]  # (K, OH, OW)
    front = np.pad(x[0], pad)  # the input as the filters see it: with its border of zeros
    if K > 3 or max(front.shape) > 8:
        raise ValueError(f"multichannel_convolution: draws at most 3 filters on a (padded) input of at most "
                         f"8x8, got {K} filters and {front.shape[0]}x{front.shape[1]}")
    _, OH, OW = y.shape
    step, depth = 0.45, min(C, len(CHANNEL_FILLS))  # more channels than colours: the first ones drawn
    fills = CHANNEL_FILLS[:depth]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, 3.3))
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.88)
    # Left to right: input, "*", the filters, "=", the output maps; every front sheet centred on y = 0.
    parts, x0 = [], 0.0
    left, bottom, right, top = _stack(ax, front, depth, x0, front.shape[0] / 2, step=step, colors=fills)
    parts.append(("input", left, right, top, bottom))
    ax.text(right + 0.55, 0, "*", ha="center", va="center", fontsize=16)
    x0 = right + 1.1
    for f in range(K):
        left, bottom, right, top = _stack(ax, w[f, 0], depth, x0, R / 2, step=step, colors=fills)
        parts.append((f"filter {f + 1}", left, right, top, bottom))
        x0 = right + 0.7
    ax.text(x0 + 0.05, 0, "=", ha="center", va="center", fontsize=16)
    x0 += 0.75
    for f in range(K):
        _grid(ax, y[f], x0, OH / 2, highlight=np.ones(y[f].shape, bool), color="#fff1c7", fontsize=9,
              gid=f"y{f}")
        parts.append((f"channel {f + 1}", x0, x0 + OW, OH / 2, -OH / 2))
        x0 += OW + 1.0  # room for the "channel" names under the short maps
    high = max(p[3] for p in parts) + 0.45
    low = min(p[4] for p in parts) - 0.5
    filters_mid = (parts[1][1] + parts[K][2]) / 2
    outputs_mid = (parts[K + 1][1] + parts[-1][2]) / 2
    for name, left, right, top, bottom in parts:
        if name.startswith("channel"):  # under its map: the output maps are short
            ax.text((left + right) / 2, bottom - 0.15, name, ha="center", va="top", fontsize=10)
        else:
            ax.text((left + right) / 2, high, name, ha="center", va="bottom", fontsize=10)
    ax.text(outputs_mid, high, "output", ha="center", va="bottom", fontsize=10)
    # The shapes, under the three groups they describe.
    ax.text((parts[0][1] + parts[0][2]) / 2, low, f"(C, H, W) = {tuple(x.shape)}", ha="center", va="top",
            fontsize=10, gid="shape-x")
    ax.text(filters_mid, low, f"(K, C, R, S) = {tuple(w.shape)}", ha="center", va="top", fontsize=10,
            gid="shape-w")
    ax.text(outputs_mid, low, f"(K, OH, OW) = {tuple(y.shape)}", ha="center", va="top", fontsize=10,
            gid="shape-y")
    ax.text(filters_mid, low - 0.85, "each filter: one slice per input channel, the slices' results added into one map",
            ha="center", va="top", fontsize=10)
    ax.set_xlim(-0.3, x0 - 0.4), ax.set_ylim(low - 1.7, high + 0.7), ax.set_aspect("equal"), ax.axis("off")
    title = f"A {C}-channel input and {K} filters of {C} channels give {K} output channels"
    if stride != 1 or pad != 0:
        title += f" (stride {stride}, padding {pad})"
    fig.suptitle(title, fontsize=11)
    return fig


# ------------------------------------------------------------------ architectures


def _named_architectures():
    from ..architectures import lenet5_spec, lenet_spec

    # name -> (title, spec, input shape): the networks of the page, built by dlbook.architectures
    return {
        "lenet": ("The course's LeNet", lenet_spec(), (1, 32, 32)),
        "lenet5": ("LeNet-5", lenet5_spec(), (1, 32, 32)),
    }


def layer_kind(spec):
    """What one block of :func:`architecture` says a spec is: "conv 5x5, 20", "max pool 2x2",
    "FC 500", "ReLU" ... (each a key of ``LABELS_ZH``)."""
    from ..architectures import FC, Act, Conv, Flatten, Inception, Pool, Residual

    if isinstance(spec, Conv):
        text = f"conv {spec.size}x{spec.size}, {spec.filters}"
        text += f", stride {spec.stride}" if spec.stride != 1 else ""
        return text + (f", padding {spec.pad}" if spec.pad else "")
    if isinstance(spec, Pool):
        stride = spec.stride or spec.size
        return f"{spec.kind} pool {spec.size}x{spec.size}" + (f", stride {stride}" if stride != spec.size else "")
    if isinstance(spec, FC):
        return f"FC {spec.units}"
    if isinstance(spec, Act):
        return {"relu": "ReLU"}.get(spec.name, spec.name)
    if isinstance(spec, Flatten):
        return "flatten"
    if isinstance(spec, Inception):
        return "inception"
    if isinstance(spec, Residual):
        return "residual block"
    return spec.label()


KIND_FILLS = {"conv": "#d6e2f5", "max pool": "#e2f3da", "avg pool": "#e2f3da", "FC": "#ffe9c9",
              "input": "#ffffff"}  # by how the kind starts; activations and the rest grey


PER_ROW = 5  # blocks in a row of the column: each an inch wide, room for "conv 5x5, 120" at 9 points


def architecture(spec_or_name="lenet", input_shape=None):
    """A network as a block diagram: one block per layer with its kind ("conv 5x5, 20") and its
    output shape ("20x28x28"), arrows between, in rows of five blocks.

    spec_or_name: "lenet" (the course's LeNet) or "lenet5" (LeNet-5), both on a (1, 32, 32) input,
    or a list of :mod:`dlbook.architectures` specs with ``input_shape`` (C, H, W). The shapes come
    from :func:`dlbook.architectures.architecture_table`.
    """
    from ..architectures import architecture_table

    if isinstance(spec_or_name, str):
        known = _named_architectures()
        if spec_or_name not in known:
            raise ValueError(f"architecture: expected one of {sorted(known)} or a list of specs, got {spec_or_name!r}")
        name, specs, shape = known[spec_or_name]
        input_shape = shape if input_shape is None else input_shape
    else:
        if input_shape is None:
            raise ValueError("architecture: a list of specs needs its input_shape (C, H, W)")
        name, specs = "A network", list(spec_or_name)
    table = architecture_table(specs, input_shape)
    blocks = [("input", tuple(input_shape))] + [(layer_kind(s), row.output_shape) for s, row in zip(specs, table)]
    per_row, rows = PER_ROW, -(-len(blocks) // PER_ROW)
    bw, bh, gap, row_h, title_h = 1.0, 0.62, 0.3, 1.05, 0.45  # in inches: the axes are drawn 1:1 in inches
    plt = _plt()
    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, title_h + row_h * rows))
    fig.subplots_adjust(left=0.0, right=1.0, bottom=0.0, top=1 - title_h / (title_h + row_h * rows))
    ax.set_xlim(0, COLUMN_INCHES), ax.set_ylim(-row_h * rows, 0), ax.axis("off")
    x_start = (COLUMN_INCHES - per_row * bw - (per_row - 1) * gap) / 2
    corners = []
    for k, (kind, shape) in enumerate(blocks):
        r, c = divmod(k, per_row)
        x, y = x_start + c * (bw + gap), -r * row_h - 0.18 - bh  # the block's lower-left corner
        fill = next((v for key, v in KIND_FILLS.items() if kind.startswith(key)), "#eeeeee")
        ax.add_patch(plt.Rectangle((x, y), bw, bh, facecolor=fill, edgecolor="#444444", linewidth=0.9,
                                   gid=f"block-{k}"))
        ax.text(x + bw / 2, y + bh * 0.7, kind, ha="center", va="center", fontsize=9, gid=f"kind-{k}")
        ax.text(x + bw / 2, y + bh * 0.28, "x".join(str(n) for n in shape), ha="center", va="center", fontsize=9,
                color="#333333", gid=f"shape-{k}")
        corners.append((x, y))
    arrow = dict(arrowstyle="-|>", color="#444444", lw=1.0, shrinkA=0, shrinkB=0)
    for k in range(1, len(blocks)):
        (xa, ya), (xb, yb) = corners[k - 1], corners[k]
        if k % per_row:  # same row: straight across
            ax.annotate("", xy=(xb, yb + bh / 2), xytext=(xa + bw, ya + bh / 2), arrowprops=arrow)
        else:  # next row: down from the last block, back left between the rows, down into the first
            mid = ya - (row_h - bh) / 2
            ax.plot([xa + bw / 2, xa + bw / 2, xb + bw / 2], [ya, mid, mid], color="#444444", lw=1.0)
            ax.annotate("", xy=(xb + bw / 2, yb + bh), xytext=(xb + bw / 2, mid), arrowprops=arrow)
    fig.suptitle(f"{name}, one block per layer with its output shape", fontsize=11)
    return fig
