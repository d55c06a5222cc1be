"""The demo website of Nubilo, a fictional Spanish B2B software company (web/site/), served on its own
port so it is a different origin from Rasa and the action server, like a company's real site.

Every page carries the few lines a company pastes into its own site (`embed_snippet`): the tracking
snippet and the chat widget, both loaded from the product (the action server's /embed/*). The
pages hold a `<!--nubilo:embed-->` marker that is replaced on the way out with the browser write key
and the URLs from the environment. Never the server write key.

Run: python -m leadqual.http.website --port 8080
"""

from __future__ import annotations

import argparse
import html
import logging
import mimetypes
import re
import unicodedata
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit

from leadqual import settings
from leadqual.settings import REPO_ROOT

SITE = REPO_ROOT / "web" / "site"
MARKER = b"<!--nubilo:embed-->"
log = logging.getLogger(__name__)
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")


def embed_snippet(
    product_url: str, socket_url: str, write_key: str, lang: str, open_after: float, open_on: str = "/precios,/pricing"
) -> str:
    """The lines a company pastes into its pages' <head> (see docs/running.md, "Embedding the chat on your site")."""
    a = partial(html.escape, quote=True)
    product = product_url.rstrip("/")
    return (
        f'<script async src="{a(product)}/embed/track.js" data-write-key="{a(write_key)}"></script>\n'
        f'<script async src="{a(product)}/embed/chat.js" data-socket-url="{a(socket_url.rstrip("/"))}"'
        f' data-lang="{a(lang)}" data-open-on="{a(open_on)}" data-open-after="{open_after:g}"></script>'
    )


class Settings:
    def __init__(self) -> None:
        actions_port = settings.ACTIONS_PORT.get()
        rasa_port = settings.RASA_PORT.get()
        self.product_url = settings.PUBLIC_ACTIONS_URL.get(f"http://localhost:{actions_port}")
        self.socket_url = settings.PUBLIC_RASA_URL.get(f"http://localhost:{rasa_port}")
        self.write_key = settings.BROWSER_WRITE_KEY.get()
        self.open_after = float(settings.PROACTIVE_SECONDS.get())

    def snippet(self, lang: str) -> bytes:
        return embed_snippet(self.product_url, self.socket_url, self.write_key, lang, self.open_after).encode()


class BadRequest(ValueError):
    """A request path no file can have: answered 400."""


def site_path(target: str) -> list[str]:
    """The request target's path as its segments inside the site: percent-decoded (UTF-8), dot
    segments applied (never above the site's root), empty ones dropped. BadRequest for a path
    that is not UTF-8 or holds a control character (NUL, CR, LF...)."""
    if target.startswith(("http://", "https://")):  # absolute-form (RFC 9112 3.2.2)
        target = urlsplit(target).path or "/"
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        raise BadRequest("the path must start with /")
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("the path is not UTF-8") from None
    if any(unicodedata.category(char) == "Cc" for char in decoded):
        raise BadRequest("control character in the path")
    segments: list[str] = []
    for segment in decoded.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    return segments


def site_url(segments: list[str], directory: bool = False) -> str:
    """A same-site relative URL for these segments: always "/" then a percent-encoded path, so
    never "//host" or "/\\host" (another site, for a browser) nor a control character."""
    url = "/" + "/".join(quote(segment, safe="") for segment in segments)
    return url + "/" if directory and segments else url


class Handler(BaseHTTPRequestHandler):
    settings: Settings
    server_version = "nubilo-site"

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def send_header(self, keyword: str, value: str) -> None:
        """No header carries a control character (a CR LF would start a header of its own)."""
        if any(unicodedata.category(char) == "Cc" for char in f"{keyword}{value}"):
            raise ValueError(f"control character in the {keyword} header")
        super().send_header(keyword, value)

    def do_HEAD(self):  # noqa: N802
        self.do_GET(head=True)

    def do_GET(self, head: bool = False):  # noqa: N802
        """Any request gets an answer: 400 for a path no file can have, 404 for a missing page,
        500 (logged) if serving fails; never a connection closed without one."""
        self._headers_sent = False
        try:
            self._serve(head)
        except BadRequest as exc:
            self._send(HTTPStatus.BAD_REQUEST, f"bad request: {exc}".encode(), "text/plain; charset=utf-8", head)
        except Exception:  # noqa: BLE001 - answered 500, not a dropped connection
            log.exception("serving %r failed", self.path)
            if self._headers_sent:  # too late for another answer: end this one
                self.close_connection = True
                return
            self._headers_buffer = []  # a half-built answer is dropped, not sent
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error", "text/plain; charset=utf-8", head)

    def end_headers(self) -> None:
        self._headers_sent = True
        super().end_headers()

    def _serve(self, head: bool) -> None:
        segments = site_path(self.path)
        raw_path = self.path.split("?", 1)[0].split("#", 1)[0]
        target = SITE.joinpath(*segments)
        try:
            resolved = target.resolve()
            inside = resolved == SITE or SITE in resolved.parents
            is_dir = inside and target.is_dir()
            is_file = inside and not is_dir and target.is_file()
        except (OSError, ValueError):  # e.g. a name too long for the file system
            inside = is_dir = is_file = False
        if not inside:
            return self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain", head)
        if is_dir:
            if not raw_path.endswith("/"):
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                query = urlsplit(self.path).query
                keep = "?" + query if query and _VISIBLE_ASCII.fullmatch(query) else ""  # e.g. utm_* parameters
                self.send_header("Location", site_url(segments, directory=True) + keep)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            target = target / "index.html"
            is_file = target.is_file()
        if not is_file:
            return self._send(HTTPStatus.NOT_FOUND, b"<h1>404</h1>", "text/html; charset=utf-8", head)
        body = target.read_bytes()
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind == "text/html":
            lang = "en" if segments[:1] == ["en"] else "es"
            body = body.replace(MARKER, self.settings.snippet(lang))
            kind += "; charset=utf-8"
        elif kind.startswith("text/"):
            kind += "; charset=utf-8"
        self._send(HTTPStatus.OK, body, kind, head)

    def _send(self, status, body: bytes, kind: str, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if not head:
            self.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(settings.SITE_PORT.get()))
    parser.add_argument("--host", default=settings.SITE_HOST.get())
    args = parser.parse_args()
    Handler.settings = Settings()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
