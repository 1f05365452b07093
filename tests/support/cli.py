"""Running freewheel as it ships: the ``freewheel`` console script, in a
subprocess, with the test's (isolated) environment variables."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

# Installed beside the interpreter running the tests, as pip installs it.
FREEWHEEL = Path(sys.executable).with_name("freewheel")


def freewheel(
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``freewheel ARGS`` and return what it did (never raises on failure).

    *env* adds to (or overrides) the current environment variables.
    """
    return subprocess.run(
        [str(FREEWHEEL), *map(str, args)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        check=False,
    )


def on_a_terminal(*args: str | os.PathLike[str], cwd: Path | None = None) -> str:
    """What ``freewheel ARGS`` (run in *cwd*) shows on a terminal (its standard error is one)."""
    main, secondary = pty.openpty()
    process = subprocess.Popen([str(FREEWHEEL), *map(str, args)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=secondary, cwd=cwd)
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert process.wait() == 0, shown.decode(errors="replace")
    return shown.decode(errors="replace")
