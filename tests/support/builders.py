"""Build real wheels and sdists for tests.

Files are written the way build backends write them (a ``.dist-info`` with
``METADATA``, ``WHEEL`` and a ``RECORD`` of sha256 hashes; an sdist with a
``PKG-INFO``), so that every layer of freewheel reads them as it would read a
file from a real index.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name


def _metadata_text(
    name: str,
    version: str,
    requires_dist: Sequence[str],
    requires_python: str | None,
    extras: Sequence[str],
    metadata_version: str = "2.1",
    dynamic: Sequence[str] = (),
) -> str:
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    for field in dynamic:
        lines.append(f"Dynamic: {field}")
    for extra in extras:
        lines.append(f"Provides-Extra: {extra}")
    for req in requires_dist:
        lines.append(f"Requires-Dist: {req}")
    return "\n".join(lines) + "\n\n"


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclasses.dataclass(frozen=True)
class Dist:
    """A built distribution: where it is and what it declares."""

    path: Path
    name: str
    version: str
    metadata: str

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    requires_dist: Sequence[str] = (),
    *,
    requires_python: str | None = None,
    extras: Sequence[str] = (),
    tag: str = "py3-none-any",
    files: Mapping[str, bytes | str] | None = None,
    padding: int = 0,
) -> Dist:
    """Write ``{name}-{version}-{tag}.whl`` into *directory*.

    *files* maps archive paths to contents; by default the wheel holds one
    module named after the project. *padding* adds an incompressible file of
    that many bytes, for tests that care how much of a wheel is fetched.
    """
    directory.mkdir(parents=True, exist_ok=True)
    dist_name = canonicalize_name(name).replace("-", "_")
    dist_info = f"{dist_name}-{version}.dist-info"
    metadata = _metadata_text(name, version, requires_dist, requires_python, extras)
    if files is None:
        files = {f"{dist_name}/__init__.py": f"__version__ = {version!r}\n"}
    contents: dict[str, bytes] = {
        path: data.encode() if isinstance(data, str) else data for path, data in files.items()
    }
    if padding:
        contents[f"{dist_name}/_padding.bin"] = hashlib.shake_256(name.encode()).digest(padding)
    contents[f"{dist_info}/METADATA"] = metadata.encode()
    contents[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: freewheel-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
    ).encode()
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in contents.items())
    record += f"{dist_info}/RECORD,,\n"
    contents[f"{dist_info}/RECORD"] = record.encode()

    path = directory / f"{dist_name}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for archive_path, data in contents.items():
            archive.writestr(archive_path, data)
    return Dist(path=path, name=name, version=version, metadata=metadata)


def make_sdist(
    directory: Path,
    name: str,
    version: str,
    requires_dist: Sequence[str] = (),
    *,
    requires_python: str | None = None,
    extras: Sequence[str] = (),
    metadata_version: str = "2.2",
    dynamic: Sequence[str] = (),
    setup_py: str | None = None,
) -> Dist:
    """Write ``{name}-{version}.tar.gz`` into *directory*.

    With ``metadata_version >= 2.2`` and ``Requires-Dist`` not in *dynamic*,
    the ``PKG-INFO`` is trustworthy without a build (PEP 643).
    """
    directory.mkdir(parents=True, exist_ok=True)
    dist_name = canonicalize_name(name).replace("-", "_")
    root = f"{dist_name}-{version}"
    metadata = _metadata_text(
        name, version, requires_dist, requires_python, extras, metadata_version, dynamic
    )
    pyproject = (
        "[build-system]\n"
        'requires = ["setuptools"]\n'
        'build-backend = "setuptools.build_meta"\n'
    )
    members: dict[str, bytes] = {
        f"{root}/PKG-INFO": metadata.encode(),
        f"{root}/pyproject.toml": pyproject.encode(),
        f"{root}/{dist_name}/__init__.py": f"__version__ = {version!r}\n".encode(),
    }
    if setup_py is not None:
        members[f"{root}/setup.py"] = setup_py.encode()
    path = directory / f"{root}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member_path, data in members.items():
            info = tarfile.TarInfo(member_path)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return Dist(path=path, name=name, version=version, metadata=metadata)
