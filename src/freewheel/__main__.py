"""Command-line entry point: ``freewheel`` and ``python -m freewheel``."""

from __future__ import annotations

import gc
import sys

#: The cyclic collector's thresholds for a run of the program. A
#: resolution allocates objects by the million and leaves few cycles, yet
#: with Python's default thresholds the collector took 0.37 s of a 2.7 s
#: backtracking resolution (moto and types-requests, from the cache) and
#: 0.14 s of a cold compile of the jupyter set. A cold compile is bound by
#: the one thread that holds the GIL, and a collection stops it: with a
#: first threshold of 10,000, scanning the live pages and candidates once
#: still cost 4 to 10% of the cold jupyter and scrapy compiles. A million
#: new objects alive is a safety net that small runs never reach; peak
#: memory did not move (76 MB on the moto set, 271 and 281 MB offline on
#: the airflow and universal airflow sets), nor did their times.
PROGRAM_GC_THRESHOLDS = (1_000_000, 10, 10)


def _keep_survivors(phase: str, info: dict[str, int]) -> None:
    """After each collection, move what survived out of the collector's
    reach for the rest of the run.

    What survives one collection is the run's data: index pages, candidate
    tables, metadata, the solver's state. Scanning it again as it ages only
    costs: the one middle-generation collection of a cold compile of the
    jupyter set took 24 to 45 ms, and a backtracking resolution (moto and
    types-requests, from the cache) spent 64 ms in three. Cyclic garbage
    that outlives one collection is kept too; peak memory did not move on
    either (84 and 78 MB).
    """
    if phase == "stop":
        gc.freeze()


def main(argv: list[str] | None = None) -> int:
    """Run the command line *argv*, by default the process's own arguments.

    Without *argv* this is the program itself, and the process ends when it
    returns: the collector runs less often, scans what survives only once
    (:func:`_keep_survivors`), and everything left is frozen out of its
    reach at the end, so that the interpreter's shutdown does not scan the
    whole heap once more (0.12 s after a cold compile of the jupyter set,
    0.02 s frozen). A caller passing *argv* keeps its own collector
    settings.
    """
    program = argv is None
    if program:
        gc.set_threshold(*PROGRAM_GC_THRESHOLDS)
        gc.callbacks.append(_keep_survivors)
    # Imported here so that `import freewheel.__main__` stays cheap for the
    # console script wrapper; the CLI module itself imports commands lazily.
    from freewheel.cli import run

    code = run(sys.argv[1:] if argv is None else argv)
    if program:
        gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(main())
