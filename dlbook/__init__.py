"""dlbook: the package behind the executable deep-learning textbook.

Every public function here is taught on a page of the book, and every page
names the function that implements it. Submodules:

- :mod:`dlbook.gates`        perceptron logic gates (chapter 2)
- :mod:`dlbook.activations`  step, sigmoid, tanh, ReLU, softmax (chapter 2)
- :mod:`dlbook.losses`, :mod:`dlbook.gradcheck`, :mod:`dlbook.graph`, :mod:`dlbook.layers`,
  :mod:`dlbook.init`, :mod:`dlbook.models`, :mod:`dlbook.optim`, :mod:`dlbook.train` (chapter 3)
- :mod:`dlbook.conv`, :mod:`dlbook.pooling`, :mod:`dlbook.architectures`, :mod:`dlbook.rnn` (chapter 4)
- :mod:`dlbook.cuda`         GPU kernels, registered as twins of the CPU functions (:mod:`dlbook._dispatch`)

The teaching modules read like their pages; the speed machinery lives in private modules
(``dlbook/conv/_direct.py``, ``_gemm.py``, ``dlbook/rnn/_fast.py``, ``dlbook/_parallel.py``), each
beside a plain reference it is tested against.
"""

__version__ = "0.1.0"
