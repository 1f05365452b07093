"""Opening a wheel and checking it is safe and consistent before any use.

:func:`read_wheel` checks everything that can be checked from the zip's
directory and its ``.dist-info`` alone: the file name, the one
``.dist-info`` directory, the ``WHEEL`` file, that every member path stays
inside the wheel, and that ``RECORD`` and the archive list the same files.
The contents' hashes are checked while they are extracted (see
:mod:`freewheel.install.unpack`), so each byte is read once.
"""

from __future__ import annotations

import email.parser
import re
import stat
import zipfile
from collections.abc import Mapping

import msgspec
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from .errors import InstallError
from .records import RecordEntry, parse_record

# The signatures sign the original RECORD; they are not listed in it and
# mean nothing once RECORD is rewritten for the environment.
SIGNATURE_FILES = frozenset({"RECORD.jws", "RECORD.p7s"})

_DRIVE = re.compile(r"^[A-Za-z]:")
_SEPARATORS = re.compile(r"[/\\]")

# The directories of ``{name}-{version}.data`` a wheel may install into.
CATEGORIES = ("purelib", "platlib", "scripts", "headers", "data")


class WheelInfo(msgspec.Struct, frozen=True):
    """What a wheel's name and ``.dist-info`` say about how to install it.

    ``dist_info`` and ``data_dir`` are the archive's top-level
    ``{name}-{version}.dist-info`` and ``{name}-{version}.data`` directory
    names; ``root_is_purelib`` says whether files outside them go to purelib
    (else platlib).
    """

    filename: str
    name: NormalizedName
    version: Version
    dist_info: str
    root_is_purelib: bool

    @property
    def data_dir(self) -> str:
        return self.dist_info.removesuffix(".dist-info") + ".data"


class WheelContents(msgspec.Struct, frozen=True):
    """A checked wheel: its facts, its files and their ``RECORD`` rows.

    ``files`` maps each regular file's archive path to its ``RECORD`` row
    (``RECORD`` itself maps to a row without hash); ``symlinks`` maps each
    symbolic link's archive path to its target, relative to the link.
    """

    info: WheelInfo
    files: Mapping[str, RecordEntry]
    symlinks: Mapping[str, str]


def unsafe_path_reason(path: str) -> str | None:
    """Why *path* from a wheel could escape its destination, or ``None``.

    Backslashes count as separators, since they are on Windows.
    """
    if not path:
        return "it is empty"
    if path.startswith(("/", "\\")):
        return "it is absolute"
    if _DRIVE.match(path):
        return "it names a drive"
    # The split only for paths that may hold a '..' part: this runs once
    # per file of every wheel installed.
    if ".." in path and ".." in _SEPARATORS.split(path):
        return "it contains '..'"
    if "\0" in path:
        return "it contains a NUL character"
    return None


def parse_wheel_metadata(text: str, *, filename: str) -> bool:
    """Check a ``WHEEL`` file and return its ``Root-Is-Purelib`` value.

    :raises InstallError: unless ``Wheel-Version`` is ``1.x`` and
        ``Root-Is-Purelib`` is ``true`` or ``false``.
    """
    headers = email.parser.Parser().parsestr(text, headersonly=True)
    wheel_version = (headers.get("Wheel-Version") or "").strip()
    if not re.fullmatch(r"1\.\d+", wheel_version):
        found = f"version {wheel_version}" if wheel_version else "no version"
        raise InstallError(
            f"{filename} declares wheel format {found}; freewheel installs "
            "wheel format 1.x only."
        )
    root_is_purelib = (headers.get("Root-Is-Purelib") or "").strip().lower()
    if root_is_purelib not in ("true", "false"):
        raise InstallError(
            f"{filename} has a WHEEL file whose Root-Is-Purelib is "
            f"{root_is_purelib or 'missing'!r}; it must be 'true' or 'false'."
        )
    return root_is_purelib == "true"


def find_dist_info(names: list[str], filename: str) -> str:
    """The one top-level ``.dist-info`` directory among archive *names*.

    :raises InstallError: when there is none, more than one, or its name
        and version do not match the wheel's file name.
    """
    candidates = sorted(
        {name.split("/", 1)[0] for name in names if name.split("/", 1)[0].endswith(".dist-info")}
    )
    if len(candidates) != 1:
        found = ", ".join(candidates) if candidates else "none"
        raise InstallError(
            f"{filename} must contain exactly one .dist-info directory; found {found}."
        )
    dist_info = candidates[0]
    wheel_name, wheel_version, _, _ = parse_wheel_filename(filename)
    stem_name, _, stem_version = dist_info.removesuffix(".dist-info").rpartition("-")
    try:
        matches = canonicalize_name(stem_name) == wheel_name and Version(stem_version) == wheel_version
    except InvalidVersion:
        matches = False
    if not matches:
        raise InstallError(
            f"{filename} contains {dist_info}, which does not match the "
            f"{wheel_name} {wheel_version} the file name promises."
        )
    return dist_info


def read_wheel(archive: zipfile.ZipFile, filename: str) -> WheelContents:
    """Check the structure of the wheel *archive* named *filename*.

    :raises InstallError: for a file name that is not a wheel's, an unsafe
        member path or symlink, duplicate members, a missing or invalid
        ``WHEEL`` or ``RECORD``, or files in the archive and ``RECORD`` that
        differ.
    """
    try:
        name, version, _, _ = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        raise InstallError(f"{filename} is not a valid wheel file name: {exc}.") from None
    members = archive.infolist()
    seen: set[str] = set()
    for member in members:
        reason = unsafe_path_reason(member.filename)
        if reason:
            raise InstallError(
                f"{filename} is unsafe to install: its member {member.filename!r} "
                f"would be written outside the environment ({reason})."
            )
        if member.filename in seen:
            raise InstallError(f"{filename} contains {member.filename} twice.")
        seen.add(member.filename)
    entries = [member for member in members if not member.is_dir()]
    dist_info = find_dist_info([member.filename for member in entries], filename)
    root_is_purelib = parse_wheel_metadata(
        _read_text(archive, f"{dist_info}/WHEEL", filename), filename=filename
    )
    info = WheelInfo(filename, name, version, dist_info, root_is_purelib)

    record_path = f"{dist_info}/RECORD"
    record = parse_record(_read_text(archive, record_path, filename), source=filename)
    rows = {entry.path: entry for entry in record}
    symlinks = {
        member.filename: _symlink_target(archive, member, info)
        for member in entries
        if stat.S_ISLNK(member.external_attr >> 16)
    }
    signatures = {f"{dist_info}/{name}" for name in SIGNATURE_FILES}
    present = {member.filename for member in entries if member.filename not in signatures}
    # Every RECORD path is a member's, so the member checks above cover them.
    _check_same_files(filename, present, rows, record_path)
    _check_data_dirs(info, present)
    return WheelContents(info, {path: rows[path] for path in present}, symlinks)


def _check_data_dirs(info: WheelInfo, paths: set[str]) -> None:
    for path in sorted(paths):
        parts = path.split("/")
        if parts[0].endswith(".data") and len(parts) > 1 and parts[0] != info.data_dir:
            raise InstallError(
                f"{info.filename} holds {path} in a .data directory that is not "
                f"{info.data_dir}; it is not a consistent wheel."
            )
        if parts[0] == info.data_dir and (len(parts) < 3 or parts[1] not in CATEGORIES):
            raise InstallError(
                f"{info.filename} holds {path} in its .data directory outside the "
                f"categories a wheel may install into ({', '.join(CATEGORIES)})."
            )


def _check_same_files(
    filename: str,
    present: set[str],
    rows: Mapping[str, RecordEntry],
    record_path: str,
) -> None:
    listed = set(rows)
    unlisted = sorted(present - listed)
    if unlisted:
        raise InstallError(
            f"{filename} contains files its RECORD does not list: {_some(unlisted)}. "
            "The wheel is damaged or was tampered with."
        )
    missing = sorted(listed - present)
    if missing:
        raise InstallError(
            f"The RECORD of {filename} lists files the wheel does not contain: "
            f"{_some(missing)}. The wheel is damaged or incomplete."
        )
    unhashed = sorted(path for path in present - {record_path} if rows[path].hash is None)
    if unhashed:
        raise InstallError(
            f"The RECORD of {filename} gives no hash for {_some(unhashed)}; "
            "every file but RECORD itself must have one."
        )


def _symlink_target(archive: zipfile.ZipFile, member: zipfile.ZipInfo, info: WheelInfo) -> str:
    # Only links that descend from their own directory are accepted: a
    # lexical check of "a/../b" is fooled when "a" is itself a link, and a
    # link that only descends can never leave the directory it is installed
    # into, whatever other links the wheel holds.
    target = archive.read(member).decode("utf-8", "surrogateescape")
    at_root = "/" not in member.filename
    if unsafe_path_reason(target) or (at_root and target.split("/", 1)[0] == info.data_dir):
        raise InstallError(
            f"{info.filename} is unsafe to install: its member {member.filename} is a "
            f"symbolic link to {target!r}, which points outside where it is installed."
        )
    return target


def _read_text(archive: zipfile.ZipFile, path: str, filename: str) -> str:
    try:
        return archive.read(path).decode("utf-8")
    except KeyError:
        raise InstallError(f"{filename} has no {path}; it is not a complete wheel.") from None
    except UnicodeDecodeError:
        raise InstallError(f"{filename} has a {path} that is not UTF-8 text.") from None


def _some(paths: list[str], limit: int = 3) -> str:
    shown = ", ".join(paths[:limit])
    return f"{shown} and {len(paths) - limit} more" if len(paths) > limit else shown
