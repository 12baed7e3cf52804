"""Structure diagrams drawn from the objects a page computes with (matplotlib, the ``plot`` extra).

Each function draws one picture of the course — a perceptron, the convolution window sliding over
the input, pooling — from the numbers it is given, computes the numbers it shows with dlbook itself
(never typed), and returns the matplotlib figure. The figures are sized for the book's text column
(about 7 inches) so that their text is drawn at the size it is read.

One module per part of the book: ``_networks`` (chapters 2 and 3: neurons, networks, graphs),
``_cnn`` (convolution, pooling, architectures) and ``_rnn`` (recurrent networks, sequence
patterns); ``_draw`` holds what they share. :func:`label_overlaps` lists pairs of texts whose drawn
boxes overlap; the tests require none. ``LABELS_ZH`` maps each word label the diagrams draw to its
Chinese, for the Chinese edition (the build translates figures on Chinese pages with it).
"""

from . import _cnn as cnn, _networks as networks, _rnn as rnn
from ._cnn import architecture, convolution_steps, multichannel_convolution, pooling
from ._draw import COLUMN_INCHES, label_overlaps
from ._networks import computational_graph, network, perceptron
from ._rnn import lstm_cell, rnn_unrolled, sequence_patterns

__all__ = [
    "perceptron", "network", "computational_graph",                      # chapters 2 and 3
    "convolution_steps", "multichannel_convolution", "pooling", "architecture",  # CNN
    "rnn_unrolled", "lstm_cell", "sequence_patterns",                    # RNN
    "label_overlaps",
]

LABELS_ZH = {**networks.LABELS_ZH, **cnn.LABELS_ZH, **rnn.LABELS_ZH}
