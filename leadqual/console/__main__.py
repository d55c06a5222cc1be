"""Run the SDR console: python -m leadqual.console [--port 8090] [--host 127.0.0.1]."""

from __future__ import annotations

import argparse

from leadqual import settings
from leadqual.config.marketing import ConfigError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(settings.CONSOLE_PORT.get()))
    parser.add_argument("--host", default=settings.CONSOLE_HOST.get())
    args = parser.parse_args()
    from leadqual.console.app import build_app
    from leadqual.http.observability import adopt_library_loggers, configure_logging

    configure_logging("console")  # LEADQUAL_LOG_FORMAT=json for JSON lines; personal data masked
    try:
        app = build_app()
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None
    adopt_library_loggers()  # Sanic's own loggers, configured when the app was made
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
