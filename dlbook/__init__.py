"""dlbook: the package behind the executable deep-learning textbook.

Every public function here is taught on a page of the book, and every page
names the function that implements it. Submodules:

- :mod:`dlbook.gates`        perceptron logic gates (chapter 2)
- :mod:`dlbook.activations`  step, sigmoid, tanh, ReLU, softmax (chapter 2)
- :mod:`dlbook.losses`, :mod:`dlbook.gradcheck`, :mod:`dlbook.graph`,
  :mod:`dlbook.layers`, :mod:`dlbook.optim`, :mod:`dlbook.train` (chapter 3)
- :mod:`dlbook.conv`, :mod:`dlbook.rnn` (chapter 4)
- :mod:`dlbook.cuda`         GPU kernels behind the same functions
"""

__version__ = "0.1.0"
