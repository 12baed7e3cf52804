"""Run copied code blocks as a reader would: each alone, in a fresh globals dict.

Reads a JSON list of ``{"id": ..., "code": ...}`` on stdin and writes a JSON object to
stdout: ``results`` (per block: ``id``, ``ok``, ``error``, ``seconds``) and
``dlbook_file`` (where ``dlbook`` was imported from, or null). One process for all blocks
keeps numba's compiled kernels between them, as a reader's session would; every block
still gets its own namespace, so a block that leans on an earlier one fails. What the
blocks print is captured, so only the JSON reaches stdout. Run it with ``MPLBACKEND=Agg``.

tests/test_copy_run.py uses it with this Python and with a fresh venv's Python (the wheel).
"""

import contextlib
import io
import json
import sys
import time
import traceback


def run_block(code, where):
    """Execute ``code`` as a script in a fresh namespace; return the error text or None."""
    namespace = {"__name__": "__main__"}
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            exec(compile(code, where, "exec"), namespace)
    except BaseException:  # SystemExit and KeyboardInterrupt from a block are its failures too
        return traceback.format_exc(limit=-3)
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
    return None


def main():
    blocks = json.load(sys.stdin)
    results = []
    for block in blocks:
        start = time.perf_counter()
        error = run_block(block["code"], f"<copied {block['id']}>")
        results.append(
            {"id": block["id"], "ok": error is None, "error": error, "seconds": time.perf_counter() - start}
        )
    dlbook = sys.modules.get("dlbook")
    json.dump({"results": results, "dlbook_file": getattr(dlbook, "__file__", None)}, sys.stdout)


if __name__ == "__main__":
    main()
