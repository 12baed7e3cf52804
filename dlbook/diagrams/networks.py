"""Diagrams of chapter 2 and 3: neurons and networks."""

from ._draw import COLUMN_INCHES, plt as _plt

# English label -> its Chinese, for the Chinese edition's figures (one entry per word label).
LABELS_ZH = {}


def perceptron(w1, w2, theta, name="AND"):
    """A two-input perceptron: inputs x1, x2, weights on the edges, the sum and the step with threshold theta.

    The truth table beside it is computed with :func:`dlbook.gates.perceptron`.
    """
    from ..gates import perceptron as fire

    plt = _plt()
    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, 2.8))
    ax.set_xlim(0, 10), ax.set_ylim(0, 4), ax.axis("off")
    for y, label in ((3.1, "$x_1$"), (0.9, "$x_2$")):
        ax.add_patch(plt.Circle((0.8, y), 0.45, facecolor="#eef3ff", edgecolor="#333333"))
        ax.text(0.8, y, label, ha="center", va="center", fontsize=12)
    ax.add_patch(plt.Circle((4.2, 2.0), 0.75, facecolor="#ffe9c9", edgecolor="#333333"))
    ax.text(4.2, 2.0, r"$\Sigma$ | $\theta$", ha="center", va="center", fontsize=12)
    for y, w, label_y in ((3.1, w1, 2.95), (0.9, w2, 1.05)):
        ax.annotate("", xy=(3.5, 2.0 + (0.35 if y > 2 else -0.35)), xytext=(1.25, y),
                    arrowprops=dict(arrowstyle="->", color="#333333"))
        ax.text(2.35, label_y + (0.25 if y > 2 else -0.25), f"w = {w:g}", ha="center", va="center", fontsize=11)
    ax.annotate("", xy=(6.0, 2.0), xytext=(4.95, 2.0), arrowprops=dict(arrowstyle="->", color="#333333"))
    ax.text(6.1, 2.0, f"y = 1 if $w_1x_1 + w_2x_2 > {theta:g}$\nelse 0", ha="left", va="center", fontsize=11)
    table = "\n".join(f"{a} {b} -> {fire(a, b, w1, w2, theta)}" for a in (0, 1) for b in (0, 1))
    ax.text(9.9, 3.9, f"{name}\n{table}", ha="right", va="top", fontsize=10, family="monospace")
    fig.suptitle(f"A perceptron with the course's {name} weights", fontsize=12)
    return fig
