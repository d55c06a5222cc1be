"""Starts Rasa's command line (`python -m leadqual_rasa.serve run ...` is `rasa run ...`), with the
start-up cost profiling found removed, and the HTTP API's token kept off the command line.

Loading the model's LogisticRegression imports skops.io, which at import time looks up the module
of some 300 numpy and scipy functions by scanning every loaded module; with TensorFlow and the
rest of Rasa loaded that scan took about 6 s of Rasa's start (py-spy). Imported first, while few
modules are loaded, it takes under 2 s and computes the same lists of trusted types
(tests/test_rasa_speedups.py compares them).

`--auth-token-env NAME` stands for `--auth-token <the value of $NAME>`: Rasa 3.6 reads its token
from argv only, and a process's argv is readable by every user of the host (`ps`, /proc/PID/cmdline).
The token is put into this process's own sys.argv, after the kernel took its copy, so `ps` shows
`--auth-token-env RASA_AUTH_TOKEN`, never the token. An unset or empty variable stops the start:
the API is never served without its token by mistake.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

TOKEN_FROM_ENV = "--auth-token-env"


class MissingAuthToken(SystemExit):
    """`--auth-token-env NAME` with $NAME unset or empty."""


def rasa_argv(argv: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """`argv` with `--auth-token-env NAME` (or `--auth-token-env=NAME`) replaced by `--auth-token`
    and the value of $NAME."""
    environ = os.environ if environ is None else environ
    out: list[str] = []
    rest = iter(argv)
    for arg in rest:
        if arg != TOKEN_FROM_ENV and not arg.startswith(TOKEN_FROM_ENV + "="):
            out.append(arg)
            continue
        name = arg.partition("=")[2] if "=" in arg else next(rest, "")
        if not name or name.startswith("-"):
            raise MissingAuthToken(f"{TOKEN_FROM_ENV} needs the name of an environment variable")
        token = environ.get(name, "")
        if not token:
            raise MissingAuthToken(f"{TOKEN_FROM_ENV} {name}: ${name} is not set; Rasa's HTTP API needs its token")
        out += ["--auth-token", token]
    return out


def main() -> None:
    from leadqual_rasa import logmask

    logmask.install()  # before Rasa sets up its loggers: no email or phone reaches var/rasa.log
    sys.argv[1:] = rasa_argv(sys.argv[1:])
    import skops.io  # noqa: F401  (before Rasa imports TensorFlow: see the module docstring)
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
