"""Unpacking each wheel once into a shared cache directory.

A wheel is extracted into ``{archive_bucket}/{sha256 of the wheel}/``, the
tree every environment's install then links from. Extraction goes to a
temporary directory in the same bucket, checked against the wheel's
``RECORD`` as it is written; a manifest of what the installer needs (the
``.dist-info`` name, ``Root-Is-Purelib``, every file's hash and size, the
symbolic links) is written last, and the directory is renamed into place
only then. When two processes unpack the same wheel at once, the first
rename wins and the other discards its copy.

A tree is reused after one check, not one per file: its manifest reads
back whole, and its ``METADATA`` names the wheel's project and version.
With *thorough* (what ``--reinstall`` and ``--refresh`` ask), every file is
checked too: a regular file with its recorded size and hash. A tree that
fails is unpacked again from the wheel, so a damaged cache heals instead of
poisoning every later install. A file missing from it, or no longer a
regular file (a cloned or copied file is opened without following a link
or waiting on a pipe), is found when the installer places it, and the
installer then asks for the tree again, thoroughly. A file changed in place
is only found by a thorough check: looking at every file on every install
is what the manifest saves.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import msgspec
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from freewheel.dists.hashing import sha256_file
from freewheel.dists.metadata import header_fields
from freewheel.util.fs import read_regular

from .errors import InstallError
from .records import RecordEntry, encode_digest
from .transaction import UMASK
from .wheelfile import WheelContents, WheelInfo, find_dist_info, read_wheel, unsafe_path_reason

_CHUNK = 1 << 20

# The manifest, in the tree's root; a wheel holding a member of that name
# is refused rather than have it taken for one.
MANIFEST = ".freewheel-unpacked"
# Bumped when the manifest changes: a tree with another is unpacked again.
_MANIFEST_FORMAT = 2

_SHA256 = re.compile(r"[0-9a-f]{64}")


class _Manifest(msgspec.Struct, array_like=True, frozen=True):
    format: int
    dist_info: str
    root_is_purelib: bool
    # (path, hash, size), sorted by path, RECORD included.
    files: list[tuple[str, str | None, int | None]]
    # Targets as bytes: a wheel's link target need not be UTF-8.
    symlinks: dict[str, bytes]


_DECODER = msgspec.msgpack.Decoder(_Manifest)


class Unpacked(msgspec.Struct, frozen=True):
    """A wheel unpacked in the cache: its tree, and what the tree holds."""

    tree: Path
    contents: WheelContents


def unpack(
    wheel_path: Path,
    archive_bucket: Path,
    *,
    expected_sha256: str | None = None,
    thorough: bool = False,
) -> Unpacked:
    """Extract the wheel at *wheel_path* into *archive_bucket*; return the
    tree and what it holds.

    The tree is ``archive_bucket / <sha256 of the wheel>``; when it already
    exists and is whole (see the module's docstring; *thorough* checks
    every file too) it is reused without reading the archive again, else it
    is replaced. *expected_sha256* (hex, e.g. from the index or
    ``--require-hashes``) names the tree to look for, and is checked
    against the wheel before the wheel is read at all.

    :raises InstallError: if the file cannot be read, does not have the
        expected hash, is not a valid zip, or fails any check of
        :func:`~freewheel.install.wheelfile.read_wheel` or of its ``RECORD``
        hashes and sizes, or its ``METADATA`` does not name the wheel's
        project and version. Nothing is left in the bucket then.
    """
    filename = wheel_path.name
    expected = expected_sha256.lower() if expected_sha256 is not None else None
    # A tree named by the expected hash holds that wheel's content, which
    # the wheel at hand must have: it need not be read to be unpacked.
    if expected is not None and _SHA256.fullmatch(expected):
        contents = _whole(archive_bucket / expected, filename, thorough=thorough)
        if contents is not None:
            return Unpacked(archive_bucket / expected, contents)
    try:
        digest = sha256_file(wheel_path)
    except OSError as exc:
        raise InstallError(f"Could not read the wheel {wheel_path}: {exc.strerror or exc}.") from None
    if expected is not None and digest != expected:
        raise InstallError(
            f"{filename} does not have the expected hash: its sha256 is {digest}, "
            f"but {expected_sha256} was required. The file may be damaged or replaced.",
            hint="if the index changed the file on purpose, update the hash you require",
        )
    tree = archive_bucket / digest
    if expected is None:
        contents = _whole(tree, filename, thorough=thorough)
        if contents is not None:
            return Unpacked(tree, contents)
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
        _write_manifest(staging, contents)
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
    return Unpacked(tree, contents)


def _whole(tree: Path, filename: str, *, thorough: bool) -> WheelContents | None:
    """What the tree unpacked from *filename* holds, if it still is what it was."""
    try:
        contents = read_unpacked(tree, filename)
        if not _names_itself(tree, contents):
            return None
        if thorough:
            for path, entry in contents.files.items():
                if path not in contents.symlinks and not _file_is(tree / path, entry, filename):
                    return None
            for path, target in contents.symlinks.items():
                # A link changed in the cache could point anywhere.
                if os.readlink(tree / path) != target:
                    return None
        return contents
    except (OSError, UnicodeDecodeError, InstallError, msgspec.ValidationError, msgspec.DecodeError):
        return None


def _file_is(path: Path, entry: RecordEntry, filename: str) -> bool:
    """Whether *path* is a regular file with the size and hash *entry* gives.

    :raises InstallError: when its hash differs.
    """
    status = path.lstat()
    # Only a regular file: opening a named pipe would wait forever.
    if not stat.S_ISREG(status.st_mode) or (entry.size is not None and status.st_size != entry.size):
        return False
    if entry.hash is not None:
        with path.open("rb") as source:
            _verify(filename, entry, source, io.BytesIO())
    return True


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
    # The first of a field given twice, as the resolver reads it.
    name = fields.get("name", [""])[0]
    version = fields.get("version", [""])[0]
    return canonicalize_name(name) == info.name and _same_version(version, info.version)


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
    """Describe a tree :func:`unpack` made from the wheel named *filename*,
    from its manifest alone.

    :raises OSError: when there is no manifest.
    :raises InstallError: when it does not describe such a tree: another
        format, or paths or links a wheel could not hold.
    """
    manifest = _DECODER.decode(read_regular(tree / MANIFEST))
    if manifest.format != _MANIFEST_FORMAT:
        raise InstallError(f"The unpacked tree {tree} has a manifest of another format.")
    find_dist_info([f"{manifest.dist_info}/"], filename)
    name, version, _, _ = parse_wheel_filename(filename)
    symlinks = {path: os.fsdecode(target) for path, target in manifest.symlinks.items()}
    for target in symlinks.values():
        if unsafe_path_reason(target):
            raise InstallError(f"The unpacked tree {tree} holds a link out of it.")
    info = WheelInfo(filename, name, version, manifest.dist_info, manifest.root_is_purelib)
    files = {path: RecordEntry(path, hash_value, size) for path, hash_value, size in manifest.files}
    return WheelContents(info, files, symlinks)


def _write_manifest(tree: Path, contents: WheelContents) -> None:
    manifest = _Manifest(
        _MANIFEST_FORMAT,
        contents.info.dist_info,
        contents.info.root_is_purelib,
        [(entry.path, entry.hash, entry.size) for _, entry in sorted(contents.files.items())],
        {path: os.fsencode(target) for path, target in contents.symlinks.items()},
    )
    try:
        with open(tree / MANIFEST, "xb") as handle:
            handle.write(msgspec.msgpack.encode(manifest))
    except FileExistsError:
        raise InstallError(
            f"{contents.info.filename} holds a file named {MANIFEST}, which freewheel keeps "
            "for its own use in the cache; it cannot be installed."
        ) from None


def _extract(wheel_path: Path, destination: Path) -> WheelContents:
    filename = wheel_path.name
    root = os.fspath(destination)
    made = {root}
    try:
        with zipfile.ZipFile(wheel_path) as archive:
            contents = read_wheel(archive, filename)
            scripts_dir = f"{contents.info.data_dir}/scripts/"
            for member in archive.infolist():
                entry = contents.files.get(member.filename)
                if entry is not None and member.filename not in contents.symlinks:
                    target = _in_tree(root, member.filename, made)
                    with archive.open(member) as source, open(target, "xb", buffering=0) as sink:
                        _verify(filename, entry, source, sink)
                    if (member.external_attr >> 16) & 0o111 or member.filename.startswith(scripts_dir):
                        # As pip does: scripts, and files with any execute bit in the
                        # archive, are made executable for everyone the umask allows.
                        os.chmod(target, 0o777 & ~UMASK)
            # Links last, so that no file is written through one.
            for path, target in contents.symlinks.items():
                _verify(filename, contents.files[path], io.BytesIO(archive.read(path)), io.BytesIO())
                os.symlink(target, _in_tree(root, path, made))
            return contents
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise InstallError(
            f"{filename} is not a valid zip archive ({exc}); the download may be "
            "truncated or damaged."
        ) from None


def _in_tree(root: str, member: str, made: set[str]) -> str:
    """Where the archive member *member* goes under *root*, its directory
    made first unless it is in *made* (the directories made so far)."""
    target = f"{root}/{member}"
    directory = os.path.dirname(target)
    if directory not in made:
        os.makedirs(directory, exist_ok=True)
        made.add(directory)
    return target


def _verify(filename: str, entry: RecordEntry, source: BinaryIO, sink: BinaryIO) -> None:
    """Copy *source* to *sink*, checking the hash and size *entry* gives."""
    digest = hashlib.new(entry.algorithm or "sha256")
    size = 0
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        view = memoryview(chunk)
        while view:
            # An unbuffered file may take part of a write.
            view = view[sink.write(view) :]
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
