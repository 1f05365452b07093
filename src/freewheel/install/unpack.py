"""Unpacking each wheel once into a shared cache directory.

A wheel is extracted into ``{archive_bucket}/{sha256 of the wheel}/``, the
tree every environment's install then links from. Extraction goes to a
temporary directory in the same bucket, checked against the wheel's
``RECORD`` as it is written, and is renamed into place only when complete.
When two processes unpack the same wheel at once, the first rename wins and
the other discards its copy.

A tree can still be damaged later (a disk, a user, another program). Before
a tree is reused it is checked against its ``RECORD``: every listed file is
there, a regular file, with its recorded size, the ``RECORD`` lists the ``.dist-info`` and
reads as text, and ``METADATA`` names the wheel's project and version; with
*thorough*, every file's hash is checked too. A tree that fails is unpacked
again from the wheel, so a damaged cache heals instead of poisoning every
later install.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from freewheel.dists.hashing import sha256_file
from freewheel.dists.metadata import header_fields
from freewheel.util.fs import read_regular

from .errors import InstallError
from .records import RecordEntry, encode_digest, parse_record
from .transaction import UMASK
from .wheelfile import (
    WheelContents,
    WheelInfo,
    find_dist_info,
    parse_wheel_metadata,
    read_wheel,
    unsafe_path_reason,
)

_CHUNK = 1 << 20



def unpack(
    wheel_path: Path,
    archive_bucket: Path,
    *,
    expected_sha256: str | None = None,
    thorough: bool = False,
) -> Path:
    """Extract the wheel at *wheel_path* into *archive_bucket* and return the tree.

    The tree is ``archive_bucket / <sha256 of the wheel>``; when it already
    exists and is whole (see the module's docstring; *thorough* checks
    hashes too) it is reused without reading the archive again, else it is
    replaced. *expected_sha256* (hex, e.g. from the index or
    ``--require-hashes``) is checked before anything else.

    :raises InstallError: if the file cannot be read, does not have the
        expected hash, is not a valid zip, or fails any check of
        :func:`~freewheel.install.wheelfile.read_wheel` or of its ``RECORD``
        hashes and sizes, or its ``METADATA`` does not name the wheel's
        project and version. Nothing is left in the bucket then.
    """
    filename = wheel_path.name
    try:
        digest = sha256_file(wheel_path)
    except OSError as exc:
        raise InstallError(f"Could not read the wheel {wheel_path}: {exc.strerror or exc}.") from None
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise InstallError(
            f"{filename} does not have the expected hash: its sha256 is {digest}, "
            f"but {expected_sha256} was required. The file may be damaged or replaced.",
            hint="if the index changed the file on purpose, update the hash you require",
        )
    tree = archive_bucket / digest
    if tree.is_dir() and _is_whole(tree, filename, thorough=thorough):
        return tree
    if os.path.lexists(tree):
        _discard(tree)
    try:
        archive_bucket.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=archive_bucket, prefix=".unpacking-"))
    except OSError as exc:
        raise InstallError(
            f"Could not unpack {filename} into {archive_bucket}: {exc.strerror or exc}."
        ) from None
    try:
        os.chmod(staging, 0o777 & ~UMASK)
        contents = _extract(wheel_path, staging)
        if not _names_itself(staging, contents):
            raise InstallError(
                f"{filename} is not a valid wheel: its {contents.info.dist_info}/METADATA "
                f"is missing or does not name {contents.info.name} {contents.info.version}."
            )
        try:
            os.rename(staging, tree)
        except OSError:
            if not tree.is_dir():
                raise
            # Another process unpacked the same wheel first; its tree is as
            # good as ours, and ours is discarded below.
    except OSError as exc:
        raise InstallError(
            f"Could not unpack {filename} into {archive_bucket}: {exc.strerror or exc}."
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tree


def _is_whole(tree: Path, filename: str, *, thorough: bool) -> bool:
    """Whether the tree unpacked from *filename* still is what its RECORD says."""
    try:
        contents = read_unpacked(tree, filename)
        for path, entry in contents.files.items():
            target = tree / path
            if path in contents.symlinks:
                # A link is recorded by its target's text; one that was a
                # file in the wheel, or points elsewhere now, is damage.
                link = os.fsencode(contents.symlinks[path])
                if unsafe_path_reason(contents.symlinks[path]) or (
                    entry.size is not None and len(link) != entry.size
                ):
                    return False
                if thorough and entry.hash is not None:
                    _verify(filename, entry, io.BytesIO(link), io.BytesIO())
                continue
            status = target.lstat()
            # Only a regular file: opening a named pipe would wait forever.
            if not stat.S_ISREG(status.st_mode):
                return False
            if entry.size is not None and status.st_size != entry.size:
                return False
            if thorough and entry.hash is not None:
                with target.open("rb") as source:
                    _verify(filename, entry, source, io.BytesIO())
        return _names_itself(tree, contents)
    except (OSError, UnicodeDecodeError, InstallError):
        return False


def _names_itself(tree: Path, contents: WheelContents) -> bool:
    """Whether the ``RECORD`` of the tree lists its ``METADATA``, and that
    names the project and version of the wheel: without them, the installed
    distribution would be invisible to ``list`` and ``uninstall``.

    :raises OSError: when ``METADATA`` cannot be read.
    """
    info = contents.info
    metadata = f"{info.dist_info}/METADATA"
    if metadata not in contents.files:
        return False
    fields = header_fields(read_regular(tree / metadata))
    names = fields.get("name", [""])[:1] + fields.get("version", [""])[:1]
    return (
        len(names) == 2
        and canonicalize_name(names[0]) == info.name
        and _same_version(names[1], info.version)
    )


def _same_version(text: str, version: Version) -> bool:
    try:
        return Version(text) == version
    except InvalidVersion:
        return False


def _discard(tree: Path) -> None:
    """Move a damaged tree out of the way (atomically), then remove it."""
    doomed = Path(tempfile.mkdtemp(dir=tree.parent, prefix=".damaged-"))
    try:
        os.rename(tree, doomed / "tree")
    except OSError:
        pass  # another process got to it first
    shutil.rmtree(doomed, ignore_errors=True)


def read_unpacked(tree: Path, filename: str) -> WheelContents:
    """Describe a tree :func:`unpack` made from the wheel named *filename*.

    The tree was checked when it was extracted, so this only reads its
    ``WHEEL`` and ``RECORD`` back.
    """
    names = [entry.name + "/" for entry in tree.iterdir() if entry.is_dir()]
    dist_info = find_dist_info(names, filename)
    root_is_purelib = parse_wheel_metadata(
        read_regular(tree / dist_info / "WHEEL").decode("utf-8"), filename=filename
    )
    record = parse_record(read_regular(tree / dist_info / "RECORD").decode("utf-8"), source=filename)
    name, version, _, _ = parse_wheel_filename(filename)
    info = WheelInfo(filename, name, version, dist_info, root_is_purelib)
    files = {entry.path: entry for entry in record}
    symlinks = {path: os.readlink(tree / path) for path in files if (tree / path).is_symlink()}
    return WheelContents(info, files, symlinks)


def _extract(wheel_path: Path, destination: Path) -> WheelContents:
    filename = wheel_path.name
    try:
        with zipfile.ZipFile(wheel_path) as archive:
            contents = read_wheel(archive, filename)
            scripts_dir = f"{contents.info.data_dir}/scripts/"
            for member in archive.infolist():
                entry = contents.files.get(member.filename)
                if entry is not None and member.filename not in contents.symlinks:
                    _extract_file(
                        archive, member, entry, destination / member.filename, filename, scripts_dir
                    )
            # Links last, so that no file is written through one.
            for path, target in contents.symlinks.items():
                _verify(filename, contents.files[path], io.BytesIO(archive.read(path)), io.BytesIO())
                link = destination / path
                link.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(target, link)
            return contents
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise InstallError(
            f"{filename} is not a valid zip archive ({exc}); the download may be "
            "truncated or damaged."
        ) from None


def _extract_file(
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    entry: RecordEntry,
    target: Path,
    filename: str,
    scripts_dir: str,
) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(member) as source, open(target, "xb") as sink:
        _verify(filename, entry, source, sink)
    if (member.external_attr >> 16) & 0o111 or member.filename.startswith(scripts_dir):
        # As pip does: scripts, and files with any execute bit in the
        # archive, are made executable for everyone the umask allows.
        os.chmod(target, 0o777 & ~UMASK)


def _verify(filename: str, entry: RecordEntry, source: BinaryIO, sink: BinaryIO) -> None:
    """Copy *source* to *sink*, checking the hash and size *entry* gives."""
    digest = hashlib.new(entry.algorithm or "sha256")
    size = 0
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        sink.write(chunk)
    if entry.hash is not None and f"{entry.algorithm}={encode_digest(digest.digest())}" != entry.hash:
        raise InstallError(
            f"{filename} is damaged or was tampered with: the content of "
            f"{entry.path} does not match the hash its RECORD gives."
        )
    if entry.size is not None and size != entry.size:
        raise InstallError(
            f"{filename} is damaged or was tampered with: {entry.path} is "
            f"{size} bytes, but its RECORD says {entry.size}."
        )
