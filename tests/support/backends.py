"""Build backends and source trees for the build tests, with no network.

The backends (setuptools, hatchling and its dependencies, flit-core) are
the test environment's own installed copies (the ``test`` extra installs
them), packed back into wheels from the files their ``RECORD`` lists:
tests serve them from local indexes, as any index would serve a backend.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import os
import re
import subprocess
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import tomlkit
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wheel_of_installed(name: str, directory: Path, *, local: str | None = None) -> Path:
    """A wheel of the installed distribution *name*, written into *directory*.

    Only what was installed into site-packages is packed (no scripts, no
    bytecode); ``RECORD`` is written anew for the files packed. With
    *local*, the wheel's version gets that local label (``80.9.0+hpc``), as
    wheelhouses rebuild public releases.
    """
    dist = importlib.metadata.distribution(name)
    version = dist.version if local is None else f"{dist.version}+{local}"
    stem = f"{canonicalize_name(dist.metadata['Name']).replace('-', '_')}-{version}"
    info = next(p for p in dist.files or () if p.parts[0].endswith(".dist-info"))
    installed_info, dist_info = info.parts[0], f"{stem}.dist-info"
    skipped = {f"{installed_info}/{n}" for n in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")}
    contents: dict[str, bytes] = {}
    for file in dist.files or ():
        path = file.as_posix()
        if path.startswith("..") or "__pycache__" in file.parts or path in skipped:
            continue
        data = Path(file.locate()).read_bytes()
        if path == f"{installed_info}/METADATA":
            data = re.sub(rb"(?m)^Version: .*$", f"Version: {version}".encode(), data, count=1)
        contents[dist_info + path[len(installed_info):] if file.parts[0] == installed_info else path] = data
    if f"{dist_info}/WHEEL" not in contents:
        contents[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in contents.items())
    contents[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in contents.items():
            archive.writestr(member, data)
    return path


def backend_wheels(backend: str, directory: Path) -> list[Path]:
    """Wheels of the installed *backend* and of everything it requires here, in *directory*."""
    wanted, seen = [backend], set()
    while wanted:
        name = canonicalize_name(wanted.pop())
        if name in seen:
            continue
        seen.add(name)
        for line in importlib.metadata.distribution(name).requires or ():
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.append(requirement.name)
    return [wheel_of_installed(name, directory) for name in sorted(seen)]


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    """A source tree at *root* holding *files* (paths relative to it)."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def flit_project(root: Path, name: str, version: str, dependencies: Sequence[str] = ()) -> Path:
    """A flit-core project at *root*, whose module says where it was built
    from (``WHERE``: *root*'s name)."""
    pyproject = {
        "build-system": {"requires": ["flit_core>=3.2"], "build-backend": "flit_core.buildapi"},
        "project": {"name": name, "version": version, "description": name, "dependencies": list(dependencies)},
    }
    return write_tree(root, {
        "pyproject.toml": tomlkit.dumps(pyproject),
        f"{name}/__init__.py": f'"""{name}"""\n__version__ = "{version}"\nWHERE = "{root.name}"\n',
    })


def sdist_of_tree(tree: Path, directory: Path, name: str, version: str, *, pkg_info: str | None = None) -> Path:
    """``{name}-{version}.tar.gz`` of *tree*, as ``build --sdist`` lays it out.

    Its ``PKG-INFO`` is *pkg_info*, by default metadata 2.1, which says
    nothing trustworthy about dependencies: reading them takes a build.
    """
    stem = f"{canonicalize_name(name).replace('-', '_')}-{version}"
    if pkg_info is None:
        pkg_info = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        data = pkg_info.encode()
        member = tarfile.TarInfo(f"{stem}/PKG-INFO")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
        for file in sorted(tree.rglob("*")):
            if file.is_file():
                archive.add(file, f"{stem}/{file.relative_to(tree).as_posix()}")
    return path


def git(repo: Path, *args: str) -> str:
    """Run ``git -C REPO ARGS`` with a test identity; return what it printed."""
    identity = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env={**os.environ, **identity}
    )
    return done.stdout.strip()


def git_project(repo: Path, name: str, version: str, tag: str) -> str:
    """A git repository at *repo* whose one commit, tagged *tag*, holds the
    flit-core project *name* in the subdirectory ``sub``; its commit hash."""
    flit_project(repo / "sub", name, version)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    git(repo, "tag", tag)
    return git(repo, "rev-parse", "HEAD")
