"""Compare NLU pipelines: cross-validated intent accuracy, training time and parse latency.

Run:  .venv/bin/python bench/nlu_pipelines.py [--folds 3] [--configs config.yml bench/config-diet.yml]
Prints one row per pipeline and the command that produced it. Uses Rasa from .venv-rasa.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
RASA = str(ROOT / ".venv-rasa" / "bin" / "rasa")
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cross_validate(config: str, folds: int, out: Path) -> dict:
    cmd = [
        RASA,
        "test",
        "nlu",
        "--nlu",
        "data/nlu.yml",
        "--config",
        config,
        "--cross-validation",
        "--folds",
        str(folds),
        "--out",
        str(out),
    ]
    subprocess.run(cmd, cwd=ROOT, env=ENV, check=True, capture_output=True)
    report = json.loads((out / "intent_report.json").read_text())
    return {"accuracy": report["accuracy"], "macro_f1": report["macro avg"]["f1-score"]}


def train(config: str, out: Path) -> tuple[float, str]:
    start = time.perf_counter()
    subprocess.run(
        [
            RASA,
            "train",
            "nlu",
            "--nlu",
            "data/nlu.yml",
            "--config",
            config,
            "--out",
            str(out),
            "--fixed-model-name",
            "bench",
        ],
        cwd=ROOT,
        env=ENV,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start, str(out / "bench.tar.gz")


def latency(model: str, messages: list[str]) -> dict:
    port = free_port()
    proc = subprocess.Popen(
        [RASA, "run", "--model", model, "--enable-api", "--port", str(port), "--interface", "127.0.0.1"],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = time.perf_counter()
    try:
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.3)
            if time.perf_counter() - started > 300:
                raise RuntimeError("rasa did not start")
        startup = time.perf_counter() - started
        times = []
        for text in messages:
            t0 = time.perf_counter()
            requests.post(f"http://127.0.0.1:{port}/model/parse", json={"text": text}, timeout=30).raise_for_status()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        return {"startup_s": startup, "p50_ms": statistics.median(times), "p95_ms": times[int(len(times) * 0.95) - 1]}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--configs", nargs="+", default=["config.yml", "bench/config-diet.yml"])
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    nlu = yaml.safe_load((ROOT / "data" / "nlu.yml").read_text())
    examples = [line.strip()[2:] for item in nlu["nlu"] for line in item["examples"].splitlines() if line.strip()]
    sample = (examples * 3)[: args.messages]
    rows = []
    for config in args.configs:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            cv = cross_validate(config, args.folds, tmp / "cv")
            seconds, model = train(config, tmp / "model")
            lat = latency(model, sample)
        rows.append({"config": config, **cv, "train_s": seconds, **lat})
        print(json.dumps(rows[-1]), file=sys.stderr)
    header = ("pipeline", "intent acc", "macro F1", "train s", "start s", "p50 ms", "p95 ms")
    print("\n{:<24} {:>10} {:>9} {:>8} {:>8} {:>7} {:>7}".format(*header))
    for r in rows:
        print(
            f"{r['config']:<24} {r['accuracy']:>10.3f} {r['macro_f1']:>9.3f} {r['train_s']:>8.1f} "
            f"{r['startup_s']:>8.1f} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f}"
        )
    print(
        f"\n{len(examples)} training examples, {args.folds}-fold cross-validation; latency: {len(sample)} sequential "
        f"POST /model/parse on {os.cpu_count()} cores."
    )
    print("command: .venv/bin/python " + " ".join(shlex.quote(a) for a in sys.argv))


if __name__ == "__main__":
    main()
