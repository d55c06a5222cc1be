"""Latency of answering a visitor's question from config/knowledge.yml: `knowledge.match` timed
over N messages (default 1,000), one call at a time, after the index is built.

    .venv/bin/python bench/knowledge_match.py                  # 1,000 messages
    .venv/bin/python bench/knowledge_match.py --messages 5000 --repeat 3

The messages are made from the file's own example questions, changed the way visitors write
(accents and ¿ dropped, a letter swapped or doubled, a greeting or a sentence of context around
it), plus out-of-scope and answer-like messages, in a fixed pseudo-random order (--seed), so
runs compare. It prints the index build time, median / p95 / max per call in ms, as wall-clock
time and as this thread's CPU time (on a shared machine the wall-clock tail is mostly other
processes' time slices), the load average and the command.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from leadqual.understanding import knowledge  # noqa: E402
from leadqual.understanding.parsing import normalize  # noqa: E402

OTHERS = [
    "hola",
    "gracias!",
    "unos 5000 euros al año",
    "soy el CEO",
    "me llamo Ana García",
    "en 3 meses",
    "qué tiempo hace hoy en Madrid?",
    "who won the game last night?",
    "we are 20 people in sales",
    "lo decido yo con mi socio",
    "<b>hola</b> 😀",
]
CONTEXT = [
    "Hola, buenas. Estamos mirando varias herramientas para el equipo y tengo una duda: {}",
    "Hi! We're comparing a few CRMs for our sales team this quarter. {}",
    "oye {}",
    "{} gracias!!",
    "{}",
    "{}",
]


def typo(text: str, rng: random.Random) -> str:
    if len(text) < 6:
        return text
    i = rng.randrange(1, len(text) - 2)
    if rng.random() < 0.5:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # swap two letters
    return text[:i] + text[i] + text[i:]  # double one


def messages(kb: knowledge.KnowledgeBase, n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pool = [(q, lang) for e in kb.entries for lang in ("es", "en") for q in getattr(e.questions, lang)]
    out = []
    for _ in range(n):
        if rng.random() < 0.15:
            out.append((rng.choice(OTHERS), rng.choice(("es", "en"))))
            continue
        text, lang = rng.choice(pool)
        if rng.random() < 0.5:
            text = normalize(text).strip("¿?")
        if rng.random() < 0.4:
            text = typo(text, rng)
        out.append((rng.choice(CONTEXT).format(text), lang))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1, help="times over the same messages")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    start = time.perf_counter()
    kb = knowledge.load_knowledge()
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    kb.index  # noqa: B018 - built on first use; timed here, not in the first call
    built = time.perf_counter() - start

    sample = messages(kb, args.messages, args.seed)
    wall, cpu, matched = [], [], 0
    load_before = os.getloadavg()[0]
    for _ in range(args.repeat):
        for text, lang in sample:
            start, start_cpu = time.perf_counter(), time.thread_time()
            found = knowledge.match(text, lang, kb=kb)
            cpu.append((time.thread_time() - start_cpu) * 1000)
            wall.append((time.perf_counter() - start) * 1000)
            matched += found is not None
    print(f"knowledge.yml: {len(kb.entries)} entries, {len(kb.index.docs)} examples and keywords indexed")
    print(f"load + validate: {loaded * 1000:.1f} ms, index build: {built * 1000:.1f} ms")
    print(f"match over {len(wall)} messages ({matched / len(wall):.0%} matched an entry):")
    for name, timings in (("wall-clock", wall), ("CPU", cpu)):
        timings.sort()
        p95 = timings[min(len(timings) - 1, int(0.95 * len(timings)))]
        print(
            f"  {name:10} median {statistics.median(timings):.3f} ms, p95 {p95:.3f} ms, "
            f"max {timings[-1]:.3f} ms, mean {statistics.fmean(timings):.3f} ms"
        )
    print(f"load average before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"python {sys.version.split()[0]} on {sys.platform}")
    print("command: " + shlex.join([Path(sys.executable).name, *sys.argv]))


if __name__ == "__main__":
    main()
