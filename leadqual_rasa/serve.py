"""Starts Rasa's command line (`python -m leadqual_rasa.serve run ...` is `rasa run ...`), with the
start-up cost profiling found removed.

Loading the model's LogisticRegression imports skops.io, which at import time looks up the module
of some 300 numpy and scipy functions by scanning every loaded module; with TensorFlow and the
rest of Rasa loaded that scan took about 6 s of Rasa's start (py-spy). Imported first, while few
modules are loaded, it takes under 2 s and computes the same lists of trusted types
(tests/test_rasa_speedups.py compares them).
"""

from __future__ import annotations

import sys


def main() -> None:
    import skops.io  # noqa: F401  (before Rasa imports TensorFlow: see the module docstring)
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
