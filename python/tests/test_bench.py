"""python/bench.py runs and reports every row (a smoke test: no speed is
checked here; docs/benchmarks.md has the figures)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import pycached_path

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench.py")


def test_bench_quick(tmp_path) -> None:
    if not shutil.which("redis-server"):
        pytest.skip("no redis-server (apt-get install redis-server; scripts/setup.sh does)")
    pytest.importorskip("redis", reason="no redis-py (apt-get install python3-redis)")
    out = tmp_path / "report.md"
    done = subprocess.run([sys.executable, BENCH, "--pycached", pycached_path(), "--quick",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    for row in ("| get (hit) |", "| set (acknowledged) |", "| batch_get of 10 |",
                "| asyncio get (hit) |", "| seed session.get"):
        assert row in text
    assert "Targets (issue 18)" in text and text == done.stdout
