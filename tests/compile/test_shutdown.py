"""A resolution that fails while prefetches are in flight ends cleanly.

Prefetching walks down the likely dependency tree in the background. When
the resolution stops early (here: the first index forbids a package), the
walk must be cancelled and awaited before the HTTP client closes, or its
tasks die on a closed client and Python prints "Task exception was never
retrieved" with a traceback after freewheel's own error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.builders import make_wheel


def test_failure_during_prefetch_prints_only_the_error(tmp_path: Path, index_server) -> None:
    dists = tmp_path / "dists"
    make_wheel(dists, "app", "1.0", [f"dep{n}" for n in range(12)])
    for n in range(12):
        make_wheel(dists, f"dep{n}", "1.0", [f"leaf{n}"])
        make_wheel(dists, f"leaf{n}", "1.0")
    make_wheel(dists, "forbidden", "1.0")
    server = index_server(dists, status={"forbidden": 403}, latency=0.1)
    requirements = tmp_path / "requirements.in"
    requirements.write_text("app\nforbidden\n")
    environment = {**os.environ, "PYTHONWARNINGS": "default", "PYTHONASYNCIODEBUG": "1"}
    for attempt in range(5):
        completed = subprocess.run(
            [sys.executable, "-m", "freewheel", "pip", "compile", "--no-config",
             "--cache-dir", str(tmp_path / f"cache{attempt}"),
             "--default-index", server.url, str(requirements)],
            capture_output=True, text=True, env=environment, timeout=120,
        )
        assert completed.returncode == 2, completed.stderr
        assert "403" in completed.stderr
        assert "Traceback" not in completed.stderr, completed.stderr
        assert "never retrieved" not in completed.stderr, completed.stderr


def test_background_work_ends_before_the_session_closes() -> None:
    """The I/O thread cancels and awaits every task before closing the client."""
    import asyncio

    from freewheel.resolver.source import AsyncRunner

    runner = AsyncRunner()
    state = {"closed": False, "used_after_close": False}

    async def walk() -> None:
        while True:
            await asyncio.sleep(0.001)
            if state["closed"]:
                state["used_after_close"] = True

    async def close_client() -> None:
        await asyncio.sleep(0.05)
        state["closed"] = True

    for _ in range(5):
        runner.spawn(walk())
    runner.close(close_client)
    assert state["closed"] and not state["used_after_close"]
