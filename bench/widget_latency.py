"""What a visitor waits for in the chat widget: after each message they send, the time until the
first reply bubble shows and until the last one of the burst shows, next to the time the server's
replies reached the browser. Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright),
the real widget (/embed/chat.js and rasa-webchat), Rasa's socket.io channel and the action server.

    .venv/bin/python bench/widget_latency.py                           # configured delay vs rasa-webchat's default
    .venv/bin/python bench/widget_latency.py --delays configured --visitors 10 --phone
    .venv/bin/python bench/widget_latency.py --smoke                   # a few turns (tests/browser/test_widget.py)

`--delays` lists the reply delays to compare, each measured with the same visitors:
- `configured`: /embed/chat.js as the product serves it;
- `default`: chat.js without its `customMessageDelay`, so rasa-webchat's default (30 ms a
  character, at least 0.8 s and at most 3 s a bubble): what visitors saw before;
- a number: that many milliseconds, flat (to try another value).
The page's chat.js is rewritten in the browser for `default` and numbers (Playwright's routing);
the script stops if chat.js no longer has the line it rewrites.

Each visitor is a fresh browser profile that opens the chat on the home page (Spanish or English,
in turn), is greeted, and goes through a qualification, clicking the buttons offered and typing
the rest, one turn after the other (the greeting is not counted). The times are measured in the
page (`performance.now()`): from the WebSocket frame carrying the visitor's message to the frames
of the replies (server) and to each reply bubble being added to the page (what the visitor sees).
A turn ends when as many bubbles as replies are shown, the typing dots are gone and nothing new
came for 1.5 s. The product is started as bin/run starts it (SQLite in bench/out/), or give the
URLs of a running one with --site/--actions (its pages must load chat.js from --actions).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("LEADQUAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PHONE = (390, 844)
DESKTOP = (1280, 800)
QUIET_S = 1.5  # a turn is over when nothing new came for this long
TURN_TIMEOUT_S = 30.0

# What chat.js must contain for --delays default / <ms> (checked: a rewrite that matches nothing stops the run).
DELAY_OPTION = re.compile(r"\n\s*customMessageDelay: function \(\) \{ return REPLY_DELAY_MS; \},")
DELAY_VALUE = re.compile(r"var REPLY_DELAY_MS = \d+;")

# Each visitor: the page, then its turns: ("click", button title) clicks that button if it is
# offered within a few seconds and types the title otherwise; ("type", text) types.
SCRIPTS = [
    (
        "/",
        [
            ("type", "hola, quiero una demo"),
            ("click", "Gestionar clientes y ventas"),
            ("click", "Cuanto antes"),
            ("type", "¿tenéis prueba gratuita?"),
            ("click", "Más de 10.000 €"),
            ("click", "Lo decido yo"),
            ("type", "Me llamo Lucía Gómez"),
            ("type", "Trabajo en Gómez Datos"),
            ("type", "lucia.{n}@gomezdatos.es"),
        ],
    ),
    (
        "/en/",
        [
            ("type", "hi, I'd like a demo"),
            ("click", "Manage customers and sales"),
            ("click", "As soon as possible"),
            ("type", "do you have a free trial?"),
            ("click", "Over €10,000"),
            ("click", "I decide"),
            ("type", "My name is Emma Stone"),
            ("type", "I work at Stone Analytics"),
            ("type", "emma.{n}@stoneanalytics.co.uk"),
        ],
    ),
]

# Runs in every page before its own scripts: records the visitor's messages and the server's
# replies as WebSocket frames (socket.io's "user_uttered" / "bot_uttered"), and each reply bubble
# the widget adds, with performance.now().
INSTRUMENT_JS = r"""
(() => {
  const W = window.__nubiloBench = { sent: [], frames: [], bubbles: [] };
  const Native = window.WebSocket;
  function Wrapped(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    ws.addEventListener("message", (event) => {
      if (typeof event.data !== "string" || event.data.indexOf('"bot_uttered"') === -1) return;
      let text = "";
      try {
        const packet = JSON.parse(event.data.slice(event.data.indexOf("[")));
        text = (packet[1] && packet[1].text) || "";
      } catch (e) { /* not a socket.io event */ }
      W.frames.push({ t: performance.now(), text: String(text) });
    });
    const send = ws.send.bind(ws);
    ws.send = (data) => {
      if (typeof data === "string" && data.indexOf('"user_uttered"') !== -1) W.sent.push(performance.now());
      return send(data);
    };
    return ws;
  }
  Wrapped.prototype = Native.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach((k) => { Wrapped[k] = Native[k]; });
  window.WebSocket = Wrapped;
  const seen = new WeakSet();
  const look = () => {
    document.querySelectorAll(".rw-messages-container .rw-message:not(.rw-typing-indication)").forEach((m) => {
      if (seen.has(m)) return;
      seen.add(m);
      const bubble = m.querySelector(".rw-response");
      if (bubble) W.bubbles.push({ t: performance.now(), text: bubble.innerText });
    });
  };
  new MutationObserver(look).observe(document, { childList: true, subtree: true });
})();
"""

TURN_STATE_JS = """(start) => {
  const W = window.__nubiloBench;
  const sent = W.sent.filter((t) => t >= start);
  return {
    sent: sent.length ? sent[0] : null,
    frames: W.frames.filter((f) => f.t >= start),
    bubbles: W.bubbles.filter((b) => b.t >= start),
    typing: !!document.querySelector(".rw-typing-indication"),
    now: performance.now(),
  };
}"""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def rewrite_chat_js(source: str, delay: str) -> str:
    """chat.js as served for `delay` ("configured", "default" or milliseconds)."""
    if delay == "configured":
        return source
    if delay == "default":
        rewritten, n = DELAY_OPTION.subn("", source)
    else:
        rewritten, n = DELAY_VALUE.subn(f"var REPLY_DELAY_MS = {int(delay)};", source)
    if n != 1:
        raise SystemExit(f"chat.js has no line for --delays {delay} to rewrite: update bench/widget_latency.py")
    return rewritten


def instrument(page, actions_url: str, delay: str) -> None:
    page.add_init_script(INSTRUMENT_JS)
    if delay == "configured":
        return

    def serve(route):
        response = route.fetch()
        route.fulfill(response=response, body=rewrite_chat_js(response.text(), delay))

    page.route(actions_url.rstrip("/") + "/embed/chat.js*", serve)


def wait_turn(page, start: float) -> dict:
    """Poll the page until the turn begun at `start` is over; its frames and bubbles."""
    deadline = time.monotonic() + TURN_TIMEOUT_S
    while True:
        state = page.evaluate(TURN_STATE_JS, start)
        frames, bubbles = state["frames"], state["bubbles"]
        last = max([start] + [f["t"] for f in frames] + [b["t"] for b in bubbles])
        # Without WebSocket frames (socket.io still long-polling) the bubbles alone tell.
        done = bool(bubbles) and len(bubbles) >= len(frames) and not state["typing"]
        if done and state["now"] - last >= QUIET_S * 1000:
            return state
        if time.monotonic() > deadline:
            state["timeout"] = True
            return state
        time.sleep(0.1)


def send(page, kind: str, text: str) -> float:
    """Send one visitor turn; returns the page time just before it was sent."""
    start = page.evaluate("performance.now()")
    if kind == "click":
        button = page.locator(".rw-replies .rw-reply", has_text=text).last
        try:
            button.wait_for(timeout=3000)
            start = page.evaluate("performance.now()")
            button.click()
            return start
        except Exception:  # noqa: BLE001 - not offered this time: typed instead
            start = page.evaluate("performance.now()")
    box = page.locator(".rw-new-message")
    box.fill(text)
    box.press("Enter")
    return start


def turn_figures(state: dict, start: float) -> dict:
    sent = state["sent"] if state["sent"] is not None else start
    frames, bubbles = state["frames"], state["bubbles"]
    return {
        "server_first": frames[0]["t"] - sent if frames else None,
        "server_last": frames[-1]["t"] - sent if frames else None,
        "first": bubbles[0]["t"] - sent if bubbles else None,
        "last": bubbles[-1]["t"] - sent if bubbles else None,
        "bubbles": len(bubbles),
        "chars": [len(f["text"]) for f in frames],
        "timeout": bool(state.get("timeout")),
    }


def visit(browser, site: str, actions: str, delay: str, n: int, turns: int | None, phone: bool) -> list[dict]:
    """One visitor: a fresh profile, the chat opened and greeted, then the script's turns."""
    path, script = SCRIPTS[n % len(SCRIPTS)]
    viewport = PHONE if phone else DESKTOP
    extra = {"is_mobile": True, "has_touch": True} if phone else {}
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, **extra)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        instrument(page, actions, delay)
        page.goto(site.rstrip("/") + path)
        page.locator(".rw-launcher").wait_for()
        start = page.evaluate("performance.now()")
        page.locator(".rw-launcher").click()
        greeting = wait_turn(page, start)
        if not greeting["bubbles"]:
            raise RuntimeError("the chat did not greet the visitor")
        results = []
        tag = uuid.uuid4().hex[:8]
        for kind, text in script[:turns]:
            start = send(page, kind, text.format(n=tag))
            results.append(turn_figures(wait_turn(page, start), start))
        return results
    finally:
        context.close()


def measure(site: str, actions: str, delays: list[str], visitors: int, turns: int | None, phone: bool) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict[str, list[dict]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for n in range(visitors):  # the delays take turns, so a change in the machine's load hits each
                for delay in delays:
                    out.setdefault(delay, []).extend(visit(browser, site, actions, delay, n, turns, phone))
        finally:
            browser.close()
    return out


def summary(results: list[dict]) -> dict:
    ok = [r for r in results if r["first"] is not None and not r["timeout"]]

    def stats(key: str) -> dict:
        values = [r[key] for r in ok if r[key] is not None]
        return {
            "p50": statistics.median(values) if values else float("nan"),
            "p95": percentile(values, 95),
            "max": max(values) if values else float("nan"),
        }

    return {
        "turns": len(results),
        "failed": len(results) - len(ok),
        "bubbles": statistics.mean([r["bubbles"] for r in ok]) if ok else 0.0,
        "max_bubbles": max([r["bubbles"] for r in ok], default=0),
        "server": stats("server_last"),
        "first": stats("first"),
        "last": stats("last"),
    }


def report(figures: dict[str, list[dict]]) -> None:
    def ms(value: float) -> str:
        return f"{value:,.0f} ms"

    print(
        f"{'delay':<11} {'turns':>5} {'bubbles/turn':>13}  {'server (last reply) p50 / p95 / max':>36}"
        f"  {'first bubble p50 / p95 / max':>31}  {'last bubble p50 / p95 / max':>31}"
    )
    for delay, results in figures.items():
        s = summary(results)
        row = [
            f"{delay:<11} {s['turns']:>5} {s['bubbles']:>6.1f} (≤{s['max_bubbles']})",
            " / ".join(ms(s["server"][k]) for k in ("p50", "p95", "max")),
            " / ".join(ms(s["first"][k]) for k in ("p50", "p95", "max")),
            " / ".join(ms(s["last"][k]) for k in ("p50", "p95", "max")),
        ]
        failed = f"  ({s['failed']} failed)" if s["failed"] else ""
        print(f"{row[0]}  {row[1]:>36}  {row[2]:>31}  {row[3]:>31}{failed}")


@contextmanager
def product(model: str, workdir: Path):
    """The action server, Rasa (socket.io, CORS for the site) and the demo website on free ports,
    as bin/run starts them, on a SQLite database in `workdir`; yields (site URL, actions URL)."""
    from tests.conftest import RASA_SERVE, free_port, stop, wait_for

    model = str(Path(model).resolve())  # Rasa runs in `workdir`
    ports = {name: free_port() for name in ("site", "actions", "rasa")}
    site = f"http://127.0.0.1:{ports['site']}"
    actions = f"http://127.0.0.1:{ports['actions']}"
    token = uuid.uuid4().hex
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "{actions}/webhook"\n  token: "{token}"\n'
        f'nlg:\n  url: "{actions}/nlg"\n  token: "{token}"\n'
    )
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "LEADQUAL_DATABASE_URL": f"sqlite:///{workdir / 'leads.db'}",
        "LEADQUAL_SPOOL": str(workdir / "spool.jsonl"),
        "LEADQUAL_HANDOFF_DIR": str(workdir),
        "LEADQUAL_SESSION_SECRET": uuid.uuid4().hex,
        "LEADQUAL_WRITE_KEY": "bench-" + uuid.uuid4().hex,
        "LEADQUAL_BROWSER_WRITE_KEY": "pub_bench_" + uuid.uuid4().hex[:16],
        "LEADQUAL_ACTION_TOKEN": token,
        "LEADQUAL_CORS_ORIGINS": site,
        "LEADQUAL_PUBLIC_ACTIONS_URL": actions,
        "LEADQUAL_PUBLIC_RASA_URL": f"http://127.0.0.1:{ports['rasa']}",
        "LEADQUAL_LOG_LEVEL": "WARNING",
    }
    specs = [
        ("actions", [sys.executable, "-m", "actions.server", "--port", str(ports["actions"])], ROOT),
        (
            "rasa",
            [
                *[*RASA_SERVE, "run", "--model", model, "--endpoints", str(endpoints)],
                *["--credentials", str(ROOT / "credentials.yml"), "--port", str(ports["rasa"])],
                *["--interface", "127.0.0.1", "--cors", site],
            ],
            workdir,
        ),
        ("site", [sys.executable, "-m", "leadqual.http.website", "--port", str(ports["site"])], ROOT),
    ]
    procs = []
    try:
        for name, cmd, cwd in specs:
            log = workdir / f"{name}.log"
            procs.append((subprocess.Popen(cmd, cwd=cwd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env), log))
        wait_for(actions + "/health", procs[0][0], procs[0][1], timeout=60)
        wait_for(f"http://127.0.0.1:{ports['rasa']}/", procs[1][0], procs[1][1])
        wait_for(site + "/", procs[2][0], procs[2][1], timeout=30)
        yield site, actions
    finally:
        for proc, _log in procs:
            stop(proc)


def default_model() -> str:
    path = os.environ.get("LEADQUAL_MODEL")
    if path and Path(path).exists():
        return path
    out = subprocess.run(["bash", str(ROOT / "bin" / "train")], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delays", default="configured,default", help="comma-separated: configured, default, <ms>")
    parser.add_argument("--visitors", type=int, default=6, help="visitors per delay (Spanish and English in turn)")
    parser.add_argument("--turns", type=int, default=None, help="turns per visitor (default: the whole script)")
    parser.add_argument("--phone", action="store_true", help=f"a {PHONE[0]}×{PHONE[1]} touch screen, not a desktop")
    parser.add_argument("--model", default=None, help="the model to serve (default: $LEADQUAL_MODEL or bin/train's)")
    parser.add_argument("--site", default=None, help="a running demo site (with --actions) instead of starting one")
    parser.add_argument("--actions", default=None, help="the action server the --site pages load chat.js from")
    parser.add_argument("--smoke", action="store_true", help="one visitor, three turns, each delay")
    args = parser.parse_args(argv)
    if args.smoke:
        args.visitors, args.turns = 1, 3
    delays = [d.strip() for d in args.delays.split(",") if d.strip()]
    for delay in delays:
        if delay not in ("configured", "default") and not delay.isdigit():
            parser.error(f"--delays: {delay!r} is not configured, default or a number of milliseconds")
    if bool(args.site) != bool(args.actions):
        parser.error("--site and --actions go together")
    if not Path(CHROMIUM).is_file():
        print(f"no Chromium at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    print("command:", shlex.join([sys.executable, *sys.argv]))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    started = time.perf_counter()
    if args.site:
        figures = measure(args.site, args.actions, delays, args.visitors, args.turns, args.phone)
    else:
        out = ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(dir=out, prefix="widget-") as tmp,
            product(args.model or default_model(), Path(tmp)) as (site, actions),
        ):
            figures = measure(site, actions, delays, args.visitors, args.turns, args.phone)
    screen = f"phone {PHONE[0]}×{PHONE[1]}" if args.phone else f"desktop {DESKTOP[0]}×{DESKTOP[1]}"
    print(
        f"widget latency, {screen}, {args.visitors} visitor(s) per delay, one at a time; "
        f"times from the visitor's message leaving the browser (load average {load} at start, "
        f"{time.perf_counter() - started:.0f} s in all)"
    )
    report(figures)
    failed = sum(summary(results)["failed"] for results in figures.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
