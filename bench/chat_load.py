"""Chat load: simulated visitors holding whole qualification conversations over Rasa's REST
channel against the full stack (Rasa, the action server, PostgreSQL or SQLite); turns/s,
p50/p95/p99 latency and errors.

    .venv/bin/python bench/chat_load.py --capacity 20 --seconds 60 --baseline   # most turns/s, both stacks
    .venv/bin/python bench/chat_load.py --rates 0.5,1,2 --seconds 30             # latency at arrival rates
    .venv/bin/python bench/chat_load.py --smoke      # a few seconds, as CI runs it

Two ways to load it:
- `--rates`: open loop. Visitors arrive at `rate` per second (Poisson), each says its lines one
  after the other (no think time) with its own sender id; a turn is one POST and its reply.
- `--capacity N`: closed loop. N visitors at once, each starting a new conversation as soon as
  the last one ended: the most turns/s the stack holds (the measure of ../shared/notes).

The product is started as bin/run starts it (leadqual_rasa/serve.py, the shipped config.yml and
credentials.yml). `--baseline` serves the same bot (domain, data, action server, database) with
Rasa out of the box: `rasa run` as installed, Rasa's default configuration (bench/config-diet.yml:
DIET, TED, Memoization and Rule policies) and only Rasa's REST channel, so none of
leadqual_rasa/speedups.py; the ratio is printed. `--baseline-tuned` also runs Rasa's default
configuration in the product's Rasa process (speed-ups in), to tell the two gains apart.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shlex
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import (  # noqa: E402
    RASA_SERVE,
    REST_HEADERS,
    action_server_process,
    free_port,
    postgres_database,
    stop,
)

REST = REST_HEADERS  # Rasa's REST channel token (leadqual_rasa/channels.py)

RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
TURNS = 9  # lines per conversation in SCRIPTS
OUT = ROOT / "bench" / "out"
# A whole qualification, as visitors type it (Spanish and English), ending with the email.
SCRIPTS = [
    [
        "hola",
        "quiero una demo",
        "gestionar el equipo comercial",
        "este trimestre",
        "unos 12.000 € al año",
        "soy el CEO",
        "Lucía Gómez",
        "Construcciones Gómez",
        "lucia.{n}@gomez.example",
    ],
    [
        "hi",
        "how much is it?",
        "customer support tickets",
        "in six months",
        "around $5k a year",
        "I recommend, my boss decides",
        "Sam Taylor",
        "Taylor Ltd",
        "sam.{n}@taylor.example",
    ],
]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def model_for(config: Path, name: str) -> str:
    """A trained model for `config` (cached by the hash of everything that goes into it)."""
    digest = hashlib.sha256()
    for path in [config, ROOT / "domain.yml", *sorted((ROOT / "data").glob("*.yml"))]:
        digest.update(path.read_bytes())
    target = OUT / f"{name}-{digest.hexdigest()[:12]}.tar.gz"
    if not target.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        print(f"training {name} ({config.name}) ...", flush=True)
        subprocess.run(
            [str(RASA), "train", "--config", str(config), "--domain", "domain.yml", "--data", "data"]
            + ["--out", str(OUT), "--fixed-model-name", target.name.removesuffix(".tar.gz")],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        )
    return str(target)


def first_answer(url: str, proc: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    """Waits until Rasa replies to a visitor's first message (not only until its port is open)."""
    deadline = time.monotonic() + timeout
    sender = f"start-{uuid.uuid4().hex}"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Rasa exited; see {log}")
        try:
            reply = requests.post(
                f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": "hola"}, headers=REST, timeout=30
            )
            if reply.status_code == 200 and reply.json():
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"Rasa did not answer within {timeout} s; see {log}")


def production_stores(resources: ExitStack) -> dict:
    """Environment for deploy/endpoints.production.yml: conversations in a PostgreSQL database of
    their own, locks in Redis (as several Rasa processes need)."""
    from sqlalchemy.engine import make_url

    tracker = make_url(resources.enter_context(postgres_database("leadqual_bench_rasa")))
    return {
        "LEADQUAL_TRACKER_DB_HOST": tracker.host or "127.0.0.1",
        "LEADQUAL_TRACKER_DB_PORT": str(tracker.port or 5432),
        "LEADQUAL_TRACKER_DB_NAME": tracker.database,
        "LEADQUAL_TRACKER_DB_USER": tracker.username or "postgres",
        "LEADQUAL_TRACKER_DB_PASSWORD": tracker.password or "",
        "LEADQUAL_REDIS_HOST": os.environ.get("LEADQUAL_TEST_REDIS_HOST", "127.0.0.1"),
        "LEADQUAL_REDIS_PORT": os.environ.get("LEADQUAL_TEST_REDIS_PORT", "6379"),
        "LEADQUAL_REDIS_DB": os.environ.get("LEADQUAL_TEST_REDIS_DB", "0"),
        "LEADQUAL_REDIS_PASSWORD": "",
        "LEADQUAL_REDIS_KEY_PREFIX": "lqbench" + uuid.uuid4().hex[:8],
    }


@contextmanager
def stack(model: str, database_url: str, workdir: Path, stock: bool = False, processes: int = 1):
    """The action server and Rasa on free ports, as bin/run starts them (or, `stock`, Rasa as
    installed with only its REST channel). With `processes` > 1, that many Rasa processes on the
    production stores (deploy/endpoints.production.yml), as behind the proxy of deploy/.
    Yields Rasa's URLs, how long the first one took to answer a message after start, its pid."""
    actions_port = free_port()
    token = uuid.uuid4().hex
    env = {
        **os.environ,
        "LEADQUAL_DATABASE_URL": database_url,
        "LEADQUAL_ACTION_TOKEN": token,
        "LEADQUAL_SPOOL": str(workdir / "spool.jsonl"),
        "LEADQUAL_HANDOFF_DIR": str(workdir),
        "LEADQUAL_LOG_LEVEL": "WARNING",
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
    }
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    procs = []
    with ExitStack() as resources:
        if processes > 1:
            env.update(production_stores(resources))
            env["LEADQUAL_ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{actions_port}/webhook"
            env["LEADQUAL_NLG_URL"] = f"http://127.0.0.1:{actions_port}/nlg"
            endpoints = ROOT / "deploy" / "endpoints.production.yml"
        else:
            endpoints = workdir / f"endpoints-{uuid.uuid4().hex[:6]}.yml"
            endpoints.write_text(
                f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n  token: "{token}"\n'
                f'nlg:\n  url: "http://127.0.0.1:{actions_port}/nlg"\n  token: "{token}"\n'
            )
        credentials = ROOT / "credentials.yml"
        if stock:
            credentials = workdir / "credentials-stock.yml"
            credentials.write_text("rest:\n")
        resources.enter_context(action_server_process(actions_port, logs / "actions.log", env))
        try:
            urls, started_in = [], None
            for _ in range(processes):
                port = free_port()
                log = logs / f"rasa-{port}.log"
                started = time.perf_counter()
                procs.append(
                    subprocess.Popen(
                        [*([str(RASA)] if stock else RASA_SERVE), "run", "--model", model]
                        + ["--endpoints", str(endpoints), "--credentials", str(credentials)]
                        + ["--port", str(port), "--interface", "127.0.0.1"],
                        cwd=workdir,
                        stdout=log.open("w"),
                        stderr=subprocess.STDOUT,
                        env=env,
                    )
                )
                url = f"http://127.0.0.1:{port}"
                first_answer(url, procs[-1], log)
                started_in = started_in or time.perf_counter() - started
                urls.append(url)
            yield {"urls": urls, "started_in": started_in, "pid": procs[0].pid}
        finally:
            for proc in reversed(procs):
                stop(proc)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(p) for p in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def visitor(urls: str | list[str], lines: list[str], n: int, results: list, lock: threading.Lock) -> None:
    """One whole conversation; appends (latency s, ok, finished at) per turn to `results`. With
    several Rasa URLs, a conversation sticks to one of them, as behind the proxy."""
    url = urls if isinstance(urls, str) else urls[n % len(urls)]
    session = requests.Session()
    sender = f"load-{uuid.uuid4().hex}"
    for line in lines:
        message = line.format(n=n)
        began = time.perf_counter()
        try:
            reply = session.post(
                url + "/webhooks/rest/webhook", json={"sender": sender, "message": message}, headers=REST, timeout=60
            )
            ok = reply.status_code == 200 and isinstance(reply.json(), list) and len(reply.json()) > 0
        except (requests.RequestException, ValueError):
            ok = False
        with lock:
            results.append((time.perf_counter() - began, ok, time.perf_counter()))


def run_rate(url: str | list[str], rate: float, seconds: float, seed: int = 7) -> dict:
    """Visitors arriving at `rate`/s for `seconds`; waits for all of them to finish."""
    rng = random.Random(seed)
    results: list[tuple[float, bool, float]] = []
    lock = threading.Lock()
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=256) as pool:
        n, next_at = 0, 0.0
        while next_at < seconds:
            delay = began + next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(visitor, url, SCRIPTS[n % len(SCRIPTS)], n, results, lock)
            n += 1
            next_at += rng.expovariate(rate)
    return {"rate": rate, "visitors": n, **figures(results, time.perf_counter() - began)}


def figures(results: list[tuple[float, bool, float]], seconds: float) -> dict:
    """Turns, errors, turns/s and latency percentiles of (latency s, ok, finished at) results."""
    latencies = [r[0] * 1000 for r in results if r[1]]
    return {
        "turns": len(results),
        "errors": sum(1 for r in results if not r[1]),
        "turns_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 50)),
        "p95_ms": round(percentile(latencies, 95)),
        "p99_ms": round(percentile(latencies, 99)),
        "mean_ms": round(statistics.fmean(latencies)) if latencies else None,
    }


def run_capacity(url: str | list[str], visitors: int, seconds: float) -> dict:
    """`visitors` simulated visitors at once, each starting a new conversation when the last one
    ended, for `seconds` (conversations under way then are finished but not counted)."""
    results: list[tuple[float, bool, float]] = []
    lock = threading.Lock()
    began = time.perf_counter()
    deadline = began + seconds
    counter = iter(range(10**9))

    def keep_talking() -> None:
        while time.perf_counter() < deadline:
            n = next(counter)
            visitor(url, SCRIPTS[n % len(SCRIPTS)], n, results, lock)

    threads = [threading.Thread(target=keep_talking) for _ in range(visitors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"capacity": visitors, **figures([r for r in results if r[2] <= deadline], seconds)}


def measure(
    name: str,
    model: str,
    database: str,
    loads: list[tuple[str, float]],
    seconds: float,
    workdir: Path,
    stock: bool = False,
    processes: int = 1,
) -> list[dict]:
    """Each load ("rate", visitors/s) or ("capacity", simultaneous visitors) on one fresh stack."""
    with ExitStack() as resources:
        if database == "postgresql":
            url = resources.enter_context(postgres_database("leadqual_bench"))
        else:
            url = f"sqlite:///{workdir / f'{name}.db'}"
        running = resources.enter_context(stack(model, url, workdir, stock=stock, processes=processes))
        rasa, pid = running["urls"], running["pid"]
        print(f"[{name}] Rasa answering {running['started_in']:.1f} s after start; RSS {rss_mb(pid):.0f} MB")
        visitor(rasa, SCRIPTS[0], 0, [], threading.Lock())  # warm-up
        rows = []
        for kind, amount in loads:
            if kind == "rate":
                row, label = run_rate(rasa, amount, seconds), f"{amount:>5} visitors/s"
            else:
                row, label = run_capacity(rasa, int(amount), seconds), f"{int(amount):>3} at once"
            row = {"stack": name, **row, "rasa_rss_mb": round(rss_mb(pid))}
            rows.append(row)
            print(
                f"[{name}] {label}: {row['turns_per_s']:>6} turns/s  p50 {row['p50_ms']:>5} ms  "
                f"p95 {row['p95_ms']:>5} ms  p99 {row['p99_ms']:>5} ms  errors {row['errors']}/{row['turns']}  "
                f"RSS {row['rasa_rss_mb']} MB",
                flush=True,
            )
        return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", help="open loop: visitor arrival rates per second, comma-separated")
    parser.add_argument("--capacity", help="closed loop: numbers of simultaneous visitors, comma-separated")
    parser.add_argument("--seconds", type=float, default=30, help="how long each load lasts")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--baseline", action="store_true", help="also Rasa out of the box (default config), as a ratio")
    parser.add_argument("--baseline-tuned", action="store_true", help="also Rasa's default config with the speed-ups")
    parser.add_argument(
        "--rasa-processes",
        type=int,
        default=1,
        help="the product on N Rasa processes (PostgreSQL tracker store, Redis locks)",
    )
    parser.add_argument("--model", help="the product's trained model (default: trained here from config.yml)")
    parser.add_argument("--smoke", action="store_true", help="one short run on SQLite (CI)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rates, args.capacity, args.seconds, args.database = "0.5", "2", 3, "sqlite"
        args.baseline = args.baseline_tuned = False
    if not (args.rates or args.capacity):
        args.rates = "0.5,1,2"
    loads = [("rate", float(r)) for r in (args.rates or "").split(",") if r]
    loads += [("capacity", float(c)) for c in (args.capacity or "").split(",") if c]
    workdir = OUT / f"chat-load-{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True, exist_ok=True)
    print("command:", shlex.join([sys.executable, *sys.argv]))
    model = os.path.abspath(args.model) if args.model else model_for(ROOT / "config.yml", "product")
    if args.rasa_processes > 1 and args.database != "postgresql":
        parser.error("--rasa-processes needs --database postgresql (the production stores)")
    ours = measure("product", model, args.database, loads, args.seconds, workdir, processes=args.rasa_processes)
    others = []
    if args.baseline or args.baseline_tuned:
        diet = model_for(ROOT / "bench" / "config-diet.yml", "rasa-default")
        if args.baseline:
            others.append(
                (
                    "rasa-out-of-the-box",
                    measure("rasa-out-of-the-box", diet, args.database, loads, args.seconds, workdir, stock=True),
                )
            )
        if args.baseline_tuned:
            others.append(
                ("rasa-default-tuned", measure("rasa-default-tuned", diet, args.database, loads, args.seconds, workdir))
            )
    for name, theirs in others:
        for a, b in zip(ours, theirs, strict=True):
            ratio = a["turns_per_s"] / b["turns_per_s"] if b["turns_per_s"] else float("nan")
            load = f"rate {a['rate']}/s" if "rate" in a else f"{a['capacity']} at once"
            print(f"{load}: product/{name} throughput {ratio:.2f}x, p95 {a['p95_ms']} ms vs {b['p95_ms']} ms")
    failed = sum(r["errors"] for r in ours)
    return 1 if args.smoke and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
