"""Structure diagrams drawn from the objects a page computes with (matplotlib, the ``plot`` extra).

Each function draws one picture of the course — a perceptron, the convolution window sliding over
the input, pooling — from the numbers it is given, computes the numbers it shows with dlbook itself
(never typed), and returns the matplotlib figure. The figures are sized for the book's text column
(about 7 inches) so that their text is drawn at the size it is read.

One module per part of the book: :mod:`.networks` (chapters 2 and 3), :mod:`.cnn` (convolution and
pooling). :func:`label_overlaps` lists pairs of texts whose drawn boxes overlap; the tests require none.
``LABELS_ZH`` maps each word label the diagrams draw to its Chinese, for the Chinese edition.
"""

from . import cnn, networks
from . import rnn
from ._draw import COLUMN_INCHES, label_overlaps
from .cnn import convolution_steps, pooling
from .cnn import architecture, multichannel_convolution
from .networks import perceptron
from .networks import computational_graph, network
from .rnn import lstm_cell, rnn_unrolled, sequence_patterns

__all__ = ["perceptron", "convolution_steps", "pooling", "label_overlaps"]
__all__ += ["rnn_unrolled", "lstm_cell", "sequence_patterns"]
__all__ += ["network", "computational_graph", "multichannel_convolution", "architecture"]

LABELS_ZH = {**networks.LABELS_ZH, **cnn.LABELS_ZH}
LABELS_ZH.update(rnn.LABELS_ZH)
