"""Progress bars on a terminal, silence elsewhere.

Long work (downloading, unpacking) shows a bar when stderr is a terminal;
logs and CI output get the one-line summaries the commands print anyway.
``rich`` is imported only when a bar is actually shown.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

from freewheel.cli.console import color_enabled


def wanted(*, quiet: bool, no_progress: bool) -> bool:
    """Whether to draw bars: on a terminal, unless asked not to."""
    return not quiet and not no_progress and sys.stderr.isatty()


class Bar:
    """A bar of *total* steps labelled *description*; inert when disabled.
    Without a *total* (work of unknown size, such as a resolution), it
    pulses and counts the steps done.

    :meth:`advance` may be called from any thread.
    """

    def __init__(self, description: str, total: int | None, *, enabled: bool) -> None:
        self._progress: Any = None
        self._task: Any = None
        if enabled and total != 0:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn() if total is not None else TextColumn("{task.completed}"),
                TimeElapsedColumn(),
                console=Console(stderr=True, no_color=not color_enabled()),
                transient=True,
            )
            self._task = self._progress.add_task(description, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, steps)

    def __enter__(self) -> Bar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
