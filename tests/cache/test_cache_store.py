"""The cache directory: where it is, records, crashes, concurrent processes, pruning."""

from __future__ import annotations

import asyncio
import hashlib
import io
import multiprocessing
import os
import stat
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import msgspec
import pytest
from support.builders import make_wheel

from freewheel.cache import Cache, cache_root, is_temporary, read_record
from freewheel.cache.http import CachingFetcher, StoredResponse
from freewheel.cache.maintenance import clean, prune
from freewheel.errors import UsageError
from freewheel.net import Fetcher, FetchError
from freewheel.util.fs import atomic_write_bytes
from freewheel.util.writer import serve


class Note(msgspec.Struct):
    text: str


def test_the_root_comes_from_the_option_then_the_environment_then_the_platform(tmp_path):
    assert cache_root(tmp_path / "option", {"FREEWHEEL_CACHE_DIR": str(tmp_path / "env")}) == tmp_path / "option"
    assert cache_root(None, {"FREEWHEEL_CACHE_DIR": str(tmp_path / "env")}) == tmp_path / "env"
    assert cache_root(None, {}) == Path.home() / ".cache" / "freewheel"


def test_a_cache_is_tagged_and_a_temporary_one_removed_on_close(tmp_path):
    cache = Cache(tmp_path / "cache")
    assert (cache.root / "CACHEDIR.TAG").read_bytes().startswith(b"Signature: 8a477f597d28d172789f06886806bc55")
    assert cache.bucket("archive") == cache.root / "archive-v1"
    with Cache.open(tmp_path / "ignored", no_cache=True) as temporary:
        temporary.write("metadata", "key", Note("x"), project="demo")
        assert temporary.read("metadata", "key", Note, project="demo") == Note("x")
    assert not temporary.root.exists()
    assert not (tmp_path / "ignored").exists()


def test_an_unusable_root_is_a_usage_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError) as caught:
        Cache(tmp_path / "file" / "cache")
    assert str(tmp_path / "file" / "cache") in caught.value.message
    assert "--cache-dir" in (caught.value.hint or "")


def test_a_record_that_does_not_decode_reads_as_absent_and_is_removed(tmp_path):
    cache = Cache(tmp_path)
    cache.write("metadata", "truncated", Note("some text"), project="demo")
    cache.write("metadata", "other type", Note("some text"))
    cache.close()  # the records are on disk
    path = cache.record_path("metadata", "truncated", "demo")
    path.write_bytes(path.read_bytes()[:5])
    assert cache.read("metadata", "truncated", Note, project="demo") is None
    assert not path.exists()
    assert cache.read("metadata", "other type", StoredResponse) is None
    assert cache.read("metadata", "missing", Note) is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_record_that_is_not_a_file_reads_as_absent_at_once(tmp_path):
    # Something else in a record's place (a named pipe would make a plain
    # read wait for a writer forever) is a miss, as a missing record is.
    cache = Cache(tmp_path)
    cache.write("metadata", "piped", Note("some text"), project="demo")
    cache.write("metadata", "a directory", Note("some text"), project="demo")
    cache.close()
    piped = cache.record_path("metadata", "piped", "demo")
    piped.unlink()
    os.mkfifo(piped)
    directory = cache.record_path("metadata", "a directory", "demo")
    directory.unlink()
    directory.mkdir()
    assert cache.read("metadata", "piped", Note, project="demo") is None
    assert cache.read("metadata", "a directory", Note, project="demo") is None
    assert cache.read_bytes(piped) is None
    assert cache.read_bytes(directory) is None


def test_a_killed_writer_breaks_no_reader_and_prune_removes_its_leftovers(dists, index_server, fetch, cache):
    server = index_server(dists, cache_control="max-age=600")
    url = server.files_url + "page.html"
    fetch(url)
    cache.close()  # Records are written on a thread of their own: wait for the disk.
    [record] = (cache.bucket("http") / "_other").glob("*.rec")
    data = record.read_bytes()
    leftover = record.parent / f".{record.name}.k1ll3d.tmp"
    leftover.write_bytes(data[:10])
    record.write_bytes(data[: len(data) // 2])

    with pytest.raises(FetchError):
        fetch(url, offline=True)
    [again] = fetch(url)
    cache.close()
    assert again.content == (dists / "page.html").read_bytes()
    assert len(server.requests) == 2
    assert read_record(record, StoredResponse) is not None

    pruned = prune(cache.root, offline_max_age=86400, now=time.time())
    assert (pruned.temporary.files, pruned.temporary.bytes) == (1, 10)
    assert pruned.total.files == 1
    assert not leftover.exists()
    assert fetch(url, offline=True)[0].content == again.content


def _fetch_repeatedly(cache_dir: str, urls: list[str], rounds: int) -> None:
    """One process of :func:`test_processes_sharing_a_cache_leave_it_consistent`."""

    async def main() -> None:
        for _ in range(rounds):
            async with CachingFetcher(Fetcher(timeout=10), Cache(Path(cache_dir))) as fetcher:
                for url in urls:
                    response = await fetcher.get(url)
                    assert response.status == 200, (url, response.status)

    asyncio.run(main())


def test_processes_sharing_a_cache_leave_it_consistent(dists, index_server, fetch, cache):
    for version in range(6):
        make_wheel(dists, "many", f"1.{version}", padding=20_000)
    # Every run rewrites the pages' records: after a 304, or a no-store copy.
    revalidated = index_server(dists, cache_control="no-cache", etag=True)
    unstored = index_server(dists, cache_control="no-store")
    files = sorted(path.name for path in dists.iterdir())
    urls = [server.files_url + name for server in (revalidated, unstored) for name in files]

    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_fetch_repeatedly, args=(str(cache.root), urls, 6)) for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]

    stored = [path for path in cache.root.rglob("*") if path.is_file()]
    assert not [path for path in stored if is_temporary(path)]
    for path in stored:
        if path.name.endswith(".rec"):
            assert read_record(path, StoredResponse) is not None, path
        elif path.parent.parent.parent.name == "wheels-v1":
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.parent.name
    revalidated.stop()
    unstored.stop()
    served = fetch(*urls, offline=True)
    assert [response.content for response in served] == [(dists / name).read_bytes() for name in files] * 2


def test_prune_removes_old_formats_and_old_offline_copies_only(tmp_path):
    cache = Cache(tmp_path / "cache")
    old, newer = cache.root / "http-v0", cache.root / "http-v2"
    for directory in (old, newer):
        (directory / "demo").mkdir(parents=True)
        (directory / "demo" / "entry").write_bytes(b"x" * 100)
    fresh_copy = cache.record_path("http", "fresh", "demo", ".offline.rec")
    old_copy = cache.record_path("http", "old", "demo", ".offline.rec")
    kept_record = cache.record_path("http", "record", "demo")
    for path in (fresh_copy, old_copy, kept_record):
        atomic_write_bytes(path, msgspec.msgpack.encode(Note("z")))
    now = time.time()
    os.utime(old_copy, (now - 40 * 86400, now - 40 * 86400))
    os.utime(kept_record, (now - 400 * 86400, now - 400 * 86400))

    pruned = prune(cache.root, offline_max_age=30 * 86400, now=now)
    assert (pruned.old_buckets.files, pruned.old_buckets.bytes) == (1, 100)
    assert pruned.offline_copies.files == 1
    assert not old.exists() and not old_copy.exists()
    assert newer.exists() and fresh_copy.exists() and kept_record.exists()


def test_removal_refuses_a_directory_that_is_not_a_cache(tmp_path):
    (tmp_path / "precious.txt").write_text("mine")
    with pytest.raises(UsageError, match="not a freewheel cache"):
        clean(tmp_path)
    with pytest.raises(UsageError, match="not a freewheel cache"):
        prune(tmp_path, offline_max_age=0, now=time.time())
    assert (tmp_path / "precious.txt").exists()


def test_records_are_readable_at_once_and_on_disk_after_close(tmp_path):
    """Records are written behind the caller's back, but never lost or unseen."""
    cache = Cache(tmp_path / "cache")
    for n in range(200):
        cache.write("metadata", f"key{n}", Note(str(n)), project="demo")
    assert [cache.read("metadata", f"key{n}", Note, project="demo") for n in (0, 199)] == [Note("0"), Note("199")]
    cache.close()
    reopened = Cache(tmp_path / "cache")
    assert all(
        read_record(reopened.record_path("metadata", f"key{n}", "demo"), Note) == Note(str(n)) for n in range(200)
    )


def test_records_rewritten_while_written_end_as_the_newest(tmp_path):
    # Records are written by a process of their own: each write, read back
    # at once or from disk after close, gives the newest record, however the
    # writes and that process interleave.
    cache = Cache(tmp_path / "cache")
    for round_ in range(200):
        for key in ("a", "b"):
            cache.write("derived", key, Note(f"{key}{round_}"), project="demo")
            assert cache.read("derived", key, Note, project="demo") == Note(f"{key}{round_}")
    cache.close()
    reopened = Cache(tmp_path / "cache")
    assert reopened.read("derived", "a", Note, project="demo") == Note("a199")
    assert reopened.read("derived", "b", Note, project="demo") == Note("b199")


def test_removals_take_their_turn_among_the_writes(tmp_path):
    # A response stored over its offline-only copy (or the reverse) removes
    # the other file; the removal is queued behind the writes, so a write of
    # that file still pending cannot bring it back once the removal is done.
    cache = Cache(tmp_path / "cache")
    kept, dropped = (cache.record_path("http", key, "demo") for key in ("kept", "dropped"))
    for round_ in range(200):
        cache.write_path(dropped, msgspec.msgpack.encode(Note(f"d{round_}")))
        cache.write_path(kept, msgspec.msgpack.encode(Note(f"k{round_}")))
        cache.remove_path(dropped)
        assert not cache.exists(dropped)
        assert cache.read_path(dropped, Note) is None
        assert cache.read_path(kept, Note) == Note(f"k{round_}")
    cache.write_path(dropped, b"back")
    assert cache.read_bytes(dropped) == b"back"
    cache.close()
    assert kept.is_file() and dropped.read_bytes() == b"back"
    cache.remove_path(dropped)
    cache.close()
    assert not dropped.exists() and kept.is_file()


def test_large_records_and_small_ones_keep_the_order_they_were_stored_in(tmp_path):
    # Records are sent to the writing process by a thread of their own, the
    # large ones (index pages) taking longer: a small record rewriting or
    # removing a large one stored before it still wins.
    cache = Cache(tmp_path / "cache")
    large = "x" * 300_000
    paths = {key: cache.record_path("derived", key, "demo") for key in ("a", "b", "c")}
    for round_ in range(20):
        cache.write_path(paths["a"], msgspec.msgpack.encode(Note(large + str(round_))))
        cache.write_path(paths["a"], msgspec.msgpack.encode(Note(f"a{round_}")))
        cache.write_path(paths["b"], msgspec.msgpack.encode(Note(large + str(round_))))
        cache.remove_path(paths["b"])
        cache.write_path(paths["c"], msgspec.msgpack.encode(Note(f"c{round_}")))
        cache.write_path(paths["c"], msgspec.msgpack.encode(Note(large + str(round_))))
        assert cache.read_path(paths["a"], Note) == Note(f"a{round_}")
        assert cache.read_path(paths["b"], Note) is None
        assert cache.read_path(paths["c"], Note) == Note(large + str(round_))
    cache.close()
    assert read_record(paths["a"], Note) == Note("a19")
    assert not paths["b"].exists()
    assert read_record(paths["c"], Note) == Note(large + "19")


def test_records_are_written_where_no_thread_can_be_started(tmp_path, monkeypatch):
    # A limit on processes, say: the caller writes them itself.
    def refuse(thread: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    cache = Cache(tmp_path / "cache")
    for n in range(3):
        cache.write("metadata", f"key{n}", Note(str(n)), project="demo")
    assert cache.read("metadata", "key2", Note, project="demo") == Note("2")
    cache.close()
    assert all(read_record(cache.record_path("metadata", f"key{n}", "demo"), Note) == Note(str(n)) for n in range(3))


def test_records_are_their_owners_alone(tmp_path):
    # A cache may hold what an index answered behind credentials.
    cache = Cache(tmp_path / "cache")
    cache.write("metadata", "key", Note("secret"), project="demo")
    cache.close()
    record = cache.record_path("metadata", "key", "demo")
    assert stat.S_IMODE(record.stat().st_mode) == 0o600


def test_a_record_stored_while_the_cache_closes_neither_hangs_the_close_nor_is_lost(tmp_path):
    """A thread still storing a record while the run closes the cache (a
    worker the event loop left running) must not keep the close waiting
    forever, and its record is written by the next close. Before, that
    record started a second writing thread on the same queue, which could
    take the first one's end marker: the close then waited for ever (a cold
    compile hung so in the bench)."""
    import threading

    cache = Cache(tmp_path / "cache")
    records = tmp_path / "cache" / "records"
    for round_ in range(6):
        # A backlog keeps the writing process busy while the close begins.
        for n in range(1000):
            cache.write_path(records / f"{round_}-{n}.rec", b"record")
        closing = threading.Thread(target=cache.close, daemon=True)
        closing.start()
        cache.write_path(records / f"late-{round_}.rec", b"late")
        closing.join(timeout=30)
        assert not closing.is_alive(), f"closing the cache never ended (round {round_})"
    cache.close()
    assert len(list(records.iterdir())) == 6 * 1001
    assert all((records / f"late-{round_}.rec").read_bytes() == b"late" for round_ in range(6))


_LEFTOVERS = """
import os, sys
from pathlib import Path
from freewheel.util.fs import atomic_write_bytes

target = Path(sys.argv[1]) / "sub" / "record"
target.parent.mkdir()
for n in range(3):
    (target.parent / f".record.{os.getpid()}-{n}.tmp").write_bytes(b"left by a killed process")
atomic_write_bytes(target, b"new", private=True)
"""


def test_a_write_passes_over_temporary_files_a_killed_process_with_the_same_id_left(tmp_path):
    """Temporary names come from the process id: one left behind by an
    earlier process that had the same id does not stop a write."""
    done = subprocess.run([sys.executable, "-c", _LEFTOVERS, str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "sub" / "record").read_bytes() == b"new"
    assert len([p for p in (tmp_path / "sub").iterdir() if is_temporary(p)]) == 3


_KILLED_WRITER = """
import os, sys
from pathlib import Path

import msgspec

from freewheel.cache import Cache


class Note(msgspec.Struct):
    text: str


def writing_processes():
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text()
            if f"\\nPPid:\\t{os.getpid()}\\n" in status and b"freewheel.util.writer" in (entry / "cmdline").read_bytes():
                found.add(int(entry.name))
        except (OSError, ValueError):
            pass  # not a process, or one that ended meanwhile
    return found


cache = Cache(Path(sys.argv[1]))
padding = "x" * int(sys.argv[2])
for n in range(100):
    cache.write("metadata", f"key{n}", Note(f"first {n}"), project="demo")
writers = writing_processes()
if len(writers) != 1:
    sys.exit(f"expected one writing process, found {writers}")
os.kill(writers.pop(), 9)
for n in range(100):
    cache.write("metadata", f"key{n}", Note(f"second {n}" + padding * (n % 2)), project="demo")
    if cache.read("metadata", f"key{n}", Note, project="demo") != Note(f"second {n}" + padding * (n % 2)):
        sys.exit(f"key{n} does not read back")
cache.close()
if writing_processes():
    sys.exit("a writing process outlived the close")
"""


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="finds the writing process in /proc")
@pytest.mark.parametrize("padding", [0, 300_000], ids=["small records", "large ones among them"])
def test_records_outlive_their_writing_process(tmp_path, padding):
    """Killed (by an out-of-memory killer, say), the process that writes
    records loses none: what it had not confirmed, and what comes after, is
    written by the cache's own process, in the order it was stored. (Run in
    a process of its own, whose only children are the cache's.)"""
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_WRITER, str(tmp_path / "cache"), str(padding)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    reopened = Cache(tmp_path / "cache")
    assert [read_record(reopened.record_path("metadata", f"key{n}", "demo"), Note) for n in range(100)] == [
        Note(f"second {n}" + "x" * padding * (n % 2)) for n in range(100)
    ]


def _request(path: Path, data: bytes | None) -> bytes:
    raw = os.fsencode(path)
    return struct.pack("<IQ", len(raw), 2**64 - 1 if data is None else len(data)) + raw + (data or b"")


def test_the_writing_process_does_each_request_in_order_and_confirms_it(tmp_path):
    stale = tmp_path / "stale"
    stale.write_bytes(b"old")
    requests = (
        _request(tmp_path / "a" / "record", b"first")
        + _request(stale, None)
        + _request(tmp_path / "a" / "record", b"second")
        + _request(tmp_path / "missing", None)
    )
    # The parent died while sending a fifth: nothing of it is written.
    cut = _request(tmp_path / "cut", b"x" * 100)[:-10]
    confirmations = io.BytesIO()
    serve(io.BytesIO(requests + cut), confirmations)
    assert confirmations.getvalue() == b"...."
    assert (tmp_path / "a" / "record").read_bytes() == b"second"
    assert not stale.exists() and not (tmp_path / "cut").exists()
    assert stat.S_IMODE((tmp_path / "a" / "record").stat().st_mode) == 0o600
    assert not [p for p in tmp_path.rglob("*") if is_temporary(p)]


def _write_in_forked_child(cache: Cache, n: int) -> None:
    for k in range(50):
        cache.write("metadata", f"child{n}-{k}", Note(f"child {n} {k}"), project="demo")
    cache.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks")
def test_forked_children_write_their_records_apart_from_their_parent(tmp_path):
    """A child forked from a process that stores records (multiprocessing,
    say) does not write into its parent's writing process: the requests of
    both would interleave, and garble each other. Nor does it wait for ever
    on a lock the parent's sending thread held at the fork. (Children are
    forked while the parent stores records, to catch that thread at it.)"""
    cache = Cache(tmp_path / "cache")
    cache.write("metadata", "parent-0", Note("parent 0"), project="demo")
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_write_in_forked_child, args=(cache, n)) for n in range(8)]
    for n, child in enumerate(children):
        for k in range(50):
            cache.write("metadata", f"parent-{n}-{k}", Note(f"parent {n} {k}"), project="demo")
        child.start()
    for child in children:
        child.join(10)
        assert child.exitcode == 0
    cache.close()
    reopened = Cache(tmp_path / "cache")
    for n in range(8):
        for k in range(50):
            assert reopened.read("metadata", f"parent-{n}-{k}", Note, project="demo") == Note(f"parent {n} {k}")
            assert reopened.read("metadata", f"child{n}-{k}", Note, project="demo") == Note(f"child {n} {k}")