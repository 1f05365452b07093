"""Writing files in a process of its own.

A cold run stores hundreds of cache files. Written from a thread, each of
their system calls lets go of the GIL, and taking it back from the threads
that resolve and fetch is a futex round trip between cores: on a 2-core
machine that cost more than the writes themselves. A separate process has
its own GIL; this one only reads requests from a pipe and writes.

The protocol, on the process's standard input: for each file, a header
(:data:`_HEADER`: the path's length in bytes, and the content's length, or
:data:`_REMOVE` to remove the file), the path (``os.fsencode``), then the
content. Each request done, in order, is acknowledged with one byte on
standard output. At the end of its input the process exits: a killed
parent loses only the request it was sending.

Imports nothing from the rest of freewheel but :mod:`freewheel.util.fs`, so
that the process starts in a few milliseconds (``python -I -S``).
"""

from __future__ import annotations

import os
import signal
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from freewheel.util.fs import atomic_write_bytes

if TYPE_CHECKING:
    import subprocess
    from typing import BinaryIO

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

_HEADER = struct.Struct("<IQ")
_REMOVE = 2**64 - 1
_ACK = b"."
# Linux lets a pipe grow to 1 MiB (fs.pipe-max-size) without privileges; a
# parent writing a large index page then rarely waits for the writer.
_PIPE_SIZE = 1 << 20
_WRITEV = hasattr(os, "writev")


def serve(source: BinaryIO, sink: BinaryIO) -> None:
    """Carry out the requests read from *source*, acknowledging each on *sink*.

    Files are written as :func:`~freewheel.util.fs.atomic_write_bytes`
    writes private ones. A request that fails (a full disk, a removed
    directory) is acknowledged all the same: the cache only misses it later.
    """
    while (head := _read_exactly(source, _HEADER.size)) is not None:
        path_size, size = _HEADER.unpack(head)
        raw_path = _read_exactly(source, path_size)
        data = b"" if size == _REMOVE else _read_exactly(source, size)
        if raw_path is None or data is None:
            return  # The parent died mid-request.
        path = Path(os.fsdecode(raw_path))
        try:
            if size == _REMOVE:
                path.unlink(missing_ok=True)
            else:
                atomic_write_bytes(path, data, private=True)
        except OSError:
            pass
        sink.write(_ACK)


def _read_exactly(source: BinaryIO, size: int) -> bytes | None:
    data = source.read(size)
    return data if len(data) == size else None


class WriterProcess:
    """The parent's end: :meth:`send` requests, learn how many are
    :meth:`done`, :meth:`close` to wait for the rest.

    Raises :class:`OSError` from :meth:`start` when no process can be
    started, and from :meth:`send` once it is gone.
    """

    def __init__(self, process: subprocess.Popen[bytes], requests: int, acks: int) -> None:
        self._process = process
        self._requests = requests
        self._acks = acks

    @classmethod
    def start(cls) -> WriterProcess:
        """A new writing process, run by this interpreter."""
        import subprocess  # Not in the writing process, which starts faster without it.

        # The directory freewheel is imported from, whatever put it on the
        # path (an installed package, a source tree on PYTHONPATH).
        root = str(Path(__file__).resolve().parents[2])
        code = f"import sys; sys.path.insert(0, {root!r}); from freewheel.util.writer import main; main()"
        process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        requests, acks = process.stdin.fileno(), process.stdout.fileno()  # type: ignore[union-attr]
        try:
            # Unread confirmations would fill their pipe, and the process
            # would stop reading requests: they must be read as they come.
            os.set_blocking(acks, False)
        except OSError:
            # Not for pipes on Windows before Python 3.12.
            process.kill()
            process.communicate()
            raise
        if fcntl is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
            try:
                fcntl.fcntl(requests, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
            except OSError:
                pass
        return cls(process, requests, acks)

    def send(self, path: Path, data: bytes | None) -> None:
        """Ask for *data* to be written to *path*, or, for ``None``, for *path* to be removed."""
        raw_path = os.fsencode(path)
        size = _REMOVE if data is None else len(data)
        # One system call for the whole request, where there is writev.
        pending = [memoryview(_HEADER.pack(len(raw_path), size) + raw_path), memoryview(data or b"")]
        while pending:
            written = os.writev(self._requests, pending) if _WRITEV else os.write(self._requests, pending[0])
            while pending and written >= len(pending[0]):
                written -= len(pending.pop(0))
            if pending:
                pending[0] = pending[0][written:]

    def done(self) -> int:
        """How many more requests are done since the last call (never waits)."""
        try:
            return len(os.read(self._acks, 1 << 16))
        except BlockingIOError:
            return 0

    def close(self) -> int:
        """Wait until every request sent is done, and the process gone; how
        many more were done since :meth:`done` last said."""
        acks, _ = self._process.communicate()
        return len(acks)


def main() -> None:
    # Ctrl-C reaches the whole process group: the parent decides what to do
    # with it, and this process finishes what it was asked, then sees the
    # end of its input.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(sys.stdin.buffer, sys.stdout.buffer.raw)  # type: ignore[attr-defined]
