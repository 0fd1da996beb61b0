"""Benchmark: 200 clients × 10 messages through the relay while staff answer in their topics (the handoff capability).

    .venv/bin/python bench/bench_handoff_load.py [--clients 200] [--timeout 300]
    DATABASE_URL=postgresql+asyncpg://… REDIS_URL=redis://… .venv/bin/python bench/bench_handoff_load.py

Runs tests/test_handoff_load.py – the production dispatcher polling the Bot API emulator – with more clients, and
prints its counts: client messages in topics, staff answers delivered, topics, seconds, messages per second. It
fails if any message is missing, doubled or out of order for its client.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed for every message to arrive")
    args = parser.parse_args()
    env = os.environ | {"RELAY_LOAD_CLIENTS": str(args.clients), "RELAY_LOAD_TIMEOUT": str(args.timeout)}
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/test_handoff_load.py"]
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
