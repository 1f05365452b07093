"""Wheels, environments and tree snapshots for the installer tests.

``support.builders.make_wheel`` writes well-formed pure wheels; these tests
also need ``.data`` directories, entry points, platlib wheels and, to check
the installer refuses them, wheels that are malformed on purpose.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import stat
import subprocess
import sys
import venv
import zipfile
from collections.abc import Mapping
from pathlib import Path

from freewheel.install import Scheme
from freewheel.python.interpreters import probe


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def escape(name: str) -> str:
    """*name* as wheel file names and ``.dist-info`` directories spell it."""
    return name.replace("-", "_")


def wheel_members(
    name: str,
    version: str,
    files: Mapping[str, bytes | str],
    *,
    purelib: bool = True,
    entry_points: str | None = None,
    requires: tuple[str, ...] = (),
) -> dict[str, bytes]:
    """The members of a wheel, ``RECORD`` excepted, in the order written."""
    dist_info = f"{escape(name)}-{version}.dist-info"
    members = {path: data.encode() if isinstance(data, str) else data for path, data in files.items()}
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {req}\n" for req in requires)
    members[f"{dist_info}/METADATA"] = metadata.encode()
    members[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: freewheel-tests\n"
        f"Root-Is-Purelib: {'true' if purelib else 'false'}\nTag: py3-none-any\n"
    ).encode()
    if entry_points is not None:
        members[f"{dist_info}/entry_points.txt"] = entry_points.encode()
    return members


def write_wheel(
    directory: Path,
    name: str,
    version: str,
    members: Mapping[str, bytes],
    *,
    record: str | bytes | None = None,
    unlisted: Mapping[str, bytes] | None = None,
    symlinks: Mapping[str, str] | None = None,
    executable: frozenset[str] = frozenset(),
    modes: Mapping[str, int] | None = None,
) -> Path:
    """Write a wheel of *members* plus a ``RECORD`` (computed unless given).

    *unlisted* members are left out of the computed ``RECORD``; *symlinks*
    maps member paths to link targets, stored with the symlink file mode.
    Members are stored with mode 0o644, 0o755 if in *executable*, or the
    permission bits *modes* gives them.
    """
    dist_info = f"{escape(name)}-{version}.dist-info"
    # A target holding surrogates (see os.fsdecode) is written as those raw bytes.
    links = {path: target.encode("utf-8", "surrogateescape") for path, target in (symlinks or {}).items()}
    if record is None:
        listed = {**members, **links}
        record = "".join(f"{p},{record_hash(d)},{len(d)}\n" for p, d in listed.items())
        record += f"{dist_info}/RECORD,,\n"
    path = directory / f"{escape(name)}-{version}-py3-none-any.whl"
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in {**members, **(unlisted or {})}.items():
            info = zipfile.ZipInfo(member)
            mode = (modes or {}).get(member, 0o755 if member in executable else 0o644)
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
        for member, target in links.items():
            info = zipfile.ZipInfo(member)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
        archive.writestr(f"{dist_info}/RECORD", record)
    return path


def build_wheel(
    directory: Path,
    name: str,
    version: str,
    files: Mapping[str, bytes | str],
    **options: object,
) -> Path:
    """A well-formed wheel holding *files* (see :func:`wheel_members`)."""
    return write_wheel(directory, name, version, wheel_members(name, version, files, **options))  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class Env:
    """A virtual environment made for one test."""

    root: Path
    python: Path
    scheme: Scheme

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), *args], capture_output=True, text=True, check=False
        )

    def pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The test runner's pip, acting on this environment (``--python``)."""
        return subprocess.run(
            [
                sys.executable, "-m", "pip", "--python", str(self.python),
                "--disable-pip-version-check", "--no-input", *args,
            ],
            capture_output=True,
            text=True,
            check=False,
        )


def make_env(root: Path, cache_dir: Path) -> Env:
    venv.create(root, with_pip=False, symlinks=True)
    python = root / "bin" / "python"
    return Env(root, python, Scheme.from_interpreter(probe(python, cache_dir=cache_dir)))


def snapshot(root: Path) -> dict[str, tuple[str, int, bytes]]:
    """Every path under *root* with its kind, permission bits and content."""
    tree: dict[str, tuple[str, int, bytes]] = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(directory, name)
            key = str(path.relative_to(root))
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                tree[key] = ("link", 0, os.readlink(path).encode())
            elif stat.S_ISDIR(mode):
                tree[key] = ("dir", stat.S_IMODE(mode), b"")
            else:
                tree[key] = ("file", stat.S_IMODE(mode), path.read_bytes())
    return tree


def reflinks_work(directory: Path) -> bool:
    """Whether the file system of *directory* makes reflinks (Linux ``FICLONE``)."""
    import fcntl

    source, target = directory / ".reflink-probe", directory / ".reflink-probe-copy"
    source.write_bytes(b"x")
    try:
        with open(source, "rb") as reader, open(target, "wb") as writer:
            fcntl.ioctl(writer.fileno(), 0x40049409, reader.fileno())
        return True
    except OSError:
        return False
    finally:
        source.unlink()
        target.unlink(missing_ok=True)
