"""Reading site-packages: dist-info and egg-info, PEP 610 origins, broken entries."""

from __future__ import annotations

import json
from pathlib import Path

from packaging.version import Version

from freewheel.install.site_packages import (
    diagnose,
    read_site_packages,
    requirement_url,
)

MARKERS = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.1",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "python_full_version": "3.12.1",
    "platform_python_implementation": "CPython",
    "python_version": "3.12",
    "sys_platform": "linux",
}


def dist_info(site: Path, name: str, version: str, *headers: str, **files: str) -> Path:
    """Write ``name-version.dist-info`` with METADATA *headers* and other *files*."""
    path = site / f"{name.replace('-', '_')}-{version}.dist-info"
    path.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", *headers]
    (path / "METADATA").write_text("\n".join(lines) + "\n\nA long description.\nName: not-a-header\n")
    for filename, text in files.items():
        (path / filename).write_text(text)
    return path


def test_dist_info_fields(tmp_path):
    path = dist_info(
        tmp_path,
        "Fancy.Name",
        "1.0.post1",
        "Requires-Python: >=3.9",
        "Requires-Dist: lib>=2",
        "Requires-Dist: extra-thing; extra == 'x'",
        INSTALLER="pip\n",
        REQUESTED="",
    )
    (path / "RECORD").write_text("fancy/__init__.py,sha256=abc,3\nfancy_name-1.0.post1.dist-info/RECORD,,\n")
    (dist,) = read_site_packages([tmp_path]).distributions
    assert (dist.name, dist.display_name, dist.version) == ("fancy-name", "Fancy.Name", Version("1.0.post1"))
    assert [str(r) for r in dist.requires] == ["lib>=2", 'extra-thing; extra == "x"']
    assert str(dist.requires_python) == ">=3.9"
    assert (dist.installer, dist.requested, dist.direct_url, dist.editable) == ("pip", True, None, False)
    assert dist.location == tmp_path and dist.path == path and dist.record == path / "RECORD"
    assert dist.files() == ["fancy/__init__.py", "fancy_name-1.0.post1.dist-info/RECORD"]
    assert [r.name for r in dist.active_requires(MARKERS)] == ["lib"]


def test_direct_url_kinds(tmp_path):
    def origin(name: str, record: dict[str, object]) -> str:
        path = dist_info(tmp_path, name, "1.0")
        (path / "direct_url.json").write_text(json.dumps(record))
        dist = next(d for d in read_site_packages([tmp_path]).distributions if d.name == name)
        assert dist.direct_url is not None
        return requirement_url(dist.direct_url)

    assert origin("vcs", {
        "url": "https://example.invalid/repo.git",
        "vcs_info": {"vcs": "git", "commit_id": "abc123", "requested_revision": "main"},
        "subdirectory": "pkg",
    }) == "git+https://example.invalid/repo.git@abc123#subdirectory=pkg"
    assert origin("own-vcs", {
        "url": "git+https://example.invalid/repo.git", "vcs_info": {"vcs": "git", "commit_id": "abc123"},
    }) == "git+https://example.invalid/repo.git@abc123"
    assert origin("archive", {
        "url": "https://example.invalid/a-1.0.tar.gz", "archive_info": {"hash": "sha256=ff"},
    }) == "https://example.invalid/a-1.0.tar.gz#sha256=ff"
    assert origin("local", {"url": "file:///src/local", "dir_info": {}}) == "file:///src/local"


def test_malformed_direct_url_is_ignored(tmp_path):
    path = dist_info(tmp_path, "odd", "1.0")
    (path / "direct_url.json").write_text("{not json")
    (dist,) = read_site_packages([tmp_path]).distributions
    assert dist.direct_url is None


def test_egg_info_directory_and_file(tmp_path):
    egg = tmp_path / "old_style-2.0-py3.12.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: old-style\nVersion: 2.0\n")
    (egg / "requires.txt").write_text("base>=1\n\n[fast]\nspeedup\n\n[:sys_platform == \"win32\"]\ncolorama\n")
    (tmp_path / "single-0.1.egg-info").write_text("Metadata-Version: 1.0\nName: single\nVersion: 0.1\n")
    old, single = read_site_packages([tmp_path]).distributions
    assert (old.name, old.format, old.record) == ("old-style", "egg-info", None)
    assert [str(r) for r in old.requires] == [
        "base>=1", 'speedup; extra == "fast"', 'colorama; sys_platform == "win32"'
    ]
    assert [r.name for r in old.active_requires(MARKERS)] == ["base"]
    assert (single.name, single.version, single.requires) == ("single", Version("0.1"), ())


def test_broken_entries_are_reported_and_the_rest_read(tmp_path):
    dist_info(tmp_path, "good", "1.0")
    (tmp_path / "no_metadata-1.0.dist-info").mkdir()
    bad_version = tmp_path / "bad-version.dist-info"
    bad_version.mkdir()
    (bad_version / "METADATA").write_text("Name: bad\nVersion: not a version\n")
    dist_info(tmp_path, "~ood", "0.9")
    (tmp_path / "lib64").symlink_to(tmp_path)
    site = read_site_packages([tmp_path, tmp_path / "lib64", tmp_path / "missing-platlib"])
    assert [d.name for d in site.distributions] == ["good"]
    reasons = {b.path.name: b.reason for b in site.broken}
    assert reasons.keys() == {"no_metadata-1.0.dist-info", "bad-version.dist-info", "~ood-0.9.dist-info"}
    assert "METADATA" in reasons["no_metadata-1.0.dist-info"]
    assert "invalid version" in reasons["bad-version.dist-info"]


def test_diagnose(tmp_path):
    dist_info(
        tmp_path,
        "app",
        "1.0",
        "Requires-Python: >=3.13",
        "Requires-Dist: lib[speed]<2,>=1.5",
        "Requires-Dist: gone",
        "Requires-Dist: win-only; sys_platform == 'win32'",
        "Requires-Dist: extra-only; extra == 'x'",
        "Requires-Dist: pre>=1.0",
        "Requires-Dist: not a requirement!",
    )
    dist_info(tmp_path, "lib", "1.0")
    dist_info(tmp_path, "pre", "1.1rc1")
    problems = diagnose(read_site_packages([tmp_path]).distributions, MARKERS)
    assert problems == [
        "The package `app` requires Python >=3.13, but `3.12.1` is installed",
        "The package `app` has an invalid requirement `not a requirement!`",
        "The package `app` requires `lib[speed]<2,>=1.5`, but `1.0` is installed",
        "The package `app` requires `gone`, but it's not installed",
    ]
