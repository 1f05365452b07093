"""An interpreter that answers only once the index has served something:
to show what freewheel asks for while the target interpreter describes
itself, without timing anything."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from support.server import IndexServer

#: How long the interpreter waits before giving up; the test then fails.
PATIENCE = 20


#: What the interpreter runs, once it stops waiting: the test's own.
RUN_PYTHON = f"exec '{sys.executable}' \"$@\""


class LateInterpreter:
    """:attr:`python` runs the shell command *then* (by default the test's
    interpreter, given the same arguments) once :attr:`ready` exists;
    :attr:`late` says it gave up waiting first."""

    def __init__(self, directory: Path, then: str = RUN_PYTHON) -> None:
        self.ready = directory / "ready"
        self.late = directory / "late"
        self.python = directory / "bin" / "python3"
        self.python.parent.mkdir(parents=True)
        self.python.write_text(
            "#!/bin/sh\n"
            f"i=0; while [ ! -e '{self.ready}' ] && [ $i -lt {PATIENCE * 10} ]; do sleep 0.1; i=$((i+1)); done\n"
            f"[ -e '{self.ready}' ] || touch '{self.late}'\n"
            f"{then}\n"
        )
        self.python.chmod(0o755)


@contextlib.contextmanager
def answering_once_served(
    directory: Path, server: IndexServer, served: Callable[[str], bool], then: str = RUN_PYTHON
) -> Iterator[LateInterpreter]:
    """A :class:`LateInterpreter` that answers once *server* has answered a
    request whose path *served* accepts."""
    interpreter = LateInterpreter(directory, then)

    def watch() -> None:
        deadline = time.monotonic() + PATIENCE + 10
        while time.monotonic() < deadline and not any(served(r.path) for r in list(server.requests)):
            time.sleep(0.05)
        interpreter.ready.touch()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield interpreter
    finally:
        interpreter.ready.touch()
        watcher.join()
