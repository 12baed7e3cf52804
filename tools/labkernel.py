"""Run by each lab's Jupyter kernel when it starts during the site build: tools/mkdocs_hooks.py
points ``PYTHONSTARTUP`` at this file, and IPython runs it in the notebook's namespace before the
first cell. It installs :func:`figurefacts.install_in_kernel` (every figure shown as a PNG that
carries its description and smallest text size) and leaves no name behind.
"""


def _dlbook_lab_figures():
    import importlib.util
    import os

    # Loaded from its file beside this one: the kernel's import path stays the reader's.
    path = os.path.join(os.path.dirname(os.path.abspath(os.environ["PYTHONSTARTUP"])), "figurefacts.py")
    spec = importlib.util.spec_from_file_location("_dlbook_figurefacts", path)
    figurefacts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figurefacts)
    figurefacts.install_in_kernel(get_ipython())  # noqa: F821 (IPython's namespace has it)


_dlbook_lab_figures()
del _dlbook_lab_figures
