"""``[tool.uv.sources]`` that are no index: a git repository, local paths and
a URL. ``lock`` records them as PEP 751 ``vcs``, ``directory`` and
``archive`` entries (checked with ``packaging.pylock``); ``sync`` brings
them here, builds them and records where each came from (PEP 610)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.pylock import Pylock
from support.backends import backend_wheels, flit_project, git, git_project, sdist_of_tree
from support.builders import make_wheel
from support.cli import freewheel


@pytest.fixture
def world(tmp_path: Path, index_server):
    """An app whose dependencies come from a git tag (in a subdirectory), a
    local tree, an editable local tree, a local wheel and an sdist URL; the
    index has what they need (beta) and the build backend (flit-core)."""
    dists = tmp_path / "dists"
    make_wheel(dists, "beta", "1.0")
    backend_wheels("flit-core", dists)
    flit_project(tmp_path / "local", "loco", "0.1", ["beta"])
    flit_project(tmp_path / "edit", "edi", "0.2")
    wheel = make_wheel(tmp_path / "files", "wheelie", "2.0").path
    sdist = sdist_of_tree(flit_project(tmp_path / "remote-src", "remote", "3.0"), tmp_path / "served", "remote", "3.0")
    repo = tmp_path / "repo"
    commit = git_project(repo, "gitty", "4.0", "v4")
    files = index_server(tmp_path / "served")
    app = tmp_path / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text(f"""
[project]
name = "app"
version = "1.0"
requires-python = ">=3.8"
dependencies = ["gitty", "loco", "edi", "wheelie", "remote"]

[tool.uv.sources]
gitty = {{ git = "{repo.as_uri()}", tag = "v4", subdirectory = "sub" }}
loco = {{ path = "../local" }}
edi = {{ path = "../edit", editable = true }}
wheelie = {{ path = "../files/{wheel.name}" }}
remote = {{ url = "{files.files_url}{sdist.name}" }}
""")
    common = ["--no-config", "--default-index", index_server(dists).url, "--cache-dir", str(tmp_path / "cache")]
    return dict(
        app=app, repo=repo, commit=commit, wheel=wheel, common=common,
        remote_url=f"{files.files_url}{sdist.name}", remote_sha=hashlib.sha256(sdist.read_bytes()).hexdigest(),
    )


def test_lock_records_git_path_and_url_sources(world):
    done = freewheel("lock", *world["common"], cwd=world["app"])
    assert done.returncode == 0, done.stderr
    data = tomllib.loads((world["app"] / "pylock.toml").read_text())
    Pylock.from_dict(data).validate()
    packages = {p["name"]: p for p in data["packages"]}
    assert packages["gitty"]["vcs"] == {
        "type": "git", "url": world["repo"].as_uri(), "requested-revision": "v4",
        "commit-id": world["commit"], "subdirectory": "sub",
    }
    assert packages["loco"]["directory"] == {"path": "../local"}
    assert packages["edi"]["directory"] == {"path": "../edit", "editable": True}
    assert packages["wheelie"]["archive"] == {
        "path": f"../files/{world['wheel'].name}",
        "hashes": {"sha256": hashlib.sha256(world["wheel"].read_bytes()).hexdigest()},
    }
    assert packages["remote"]["archive"] == {"url": world["remote_url"], "hashes": {"sha256": world["remote_sha"]}}
    assert {p["version"] for p in packages.values() if p["name"] != "beta"} == {"4.0", "0.1", "0.2", "2.0", "3.0"}
    assert [d["name"] for d in packages["loco"]["dependencies"]] == ["beta"]
    assert all("index" not in packages[n] for n in ("gitty", "loco", "edi", "wheelie", "remote"))
    exported = freewheel("export", "--frozen", "--no-hashes", "--no-header", cwd=world["app"])
    assert exported.returncode == 0, exported.stderr
    assert [line for line in exported.stdout.splitlines() if not line.lstrip().startswith("#")] == [
        "-e ../edit",
        "beta==1.0",
        f"gitty @ git+{world['repo'].as_uri()}@{world['commit']}#subdirectory=sub",
        "../local",
        f"remote @ {world['remote_url']}",
        f"../files/{world['wheel'].name}",
    ]


def test_sync_builds_and_installs_them_with_where_each_came_from(world):
    done = freewheel("sync", *world["common"], "--python", sys.executable, cwd=world["app"])
    assert done.returncode == 0, done.stderr
    python = world["app"] / ".venv" / "bin" / "python"
    code = "import gitty, loco, edi, wheelie, remote, beta; print(gitty.__version__, loco.WHERE, edi.__file__)"
    ran = subprocess.run([python, "-c", code], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    version, where, edi_file = ran.stdout.split()
    assert (version, where) == ("4.0", "local")
    assert Path(edi_file).resolve().is_relative_to((world["app"].parent / "edit").resolve())

    site = next((world["app"] / ".venv" / "lib").glob("python*/site-packages"))

    def direct_url(name: str) -> dict:
        return json.loads(next(site.glob(f"{name}-*.dist-info/direct_url.json")).read_text())

    assert direct_url("gitty") == {
        "url": f"git+{world['repo'].as_uri()}", "subdirectory": "sub",
        "vcs_info": {"vcs": "git", "commit_id": world["commit"], "requested_revision": "v4"},
    }
    assert direct_url("remote") == {"url": world["remote_url"], "archive_info": {"hashes": {"sha256": world["remote_sha"]}}}
    assert direct_url("loco") == {"url": (world["app"].parent / "local").as_uri(), "dir_info": {}}
    assert direct_url("edi")["dir_info"] == {"editable": True}
    again = freewheel("sync", *world["common"], "--python", sys.executable, cwd=world["app"])
    assert again.returncode == 0, again.stderr
    assert "Audited 6 packages" in again.stderr


def test_a_wrong_hash_in_the_lock_installs_nothing(world):
    assert freewheel("lock", *world["common"], cwd=world["app"]).returncode == 0
    lock = world["app"] / "pylock.toml"
    lock.write_text(lock.read_text().replace(world["remote_sha"], "0" * 64))
    done = freewheel("sync", *world["common"], "--frozen", "--python", sys.executable, cwd=world["app"])
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "remote" in done.stderr and "sha256" in done.stderr
    site = next((world["app"] / ".venv" / "lib").glob("python*/site-packages"))
    assert not list(site.glob("*.dist-info"))


def test_a_moved_tag_is_locked_again_on_upgrade_and_installed_again(world):
    common = [*world["common"], "--python", sys.executable]
    assert freewheel("sync", *common, cwd=world["app"]).returncode == 0
    module = world["repo"] / "sub" / "gitty" / "__init__.py"
    module.write_text(module.read_text().replace('WHERE = "sub"', 'WHERE = "moved"'))
    git(world["repo"], "commit", "-q", "-am", "two")
    git(world["repo"], "tag", "-f", "v4")
    moved = git(world["repo"], "rev-parse", "HEAD")
    # The project's tables did not change: the lock stands.
    assert freewheel("lock", *world["common"], cwd=world["app"]).returncode == 0
    assert world["commit"] in (world["app"] / "pylock.toml").read_text()
    done = freewheel("sync", *common, "--upgrade-package", "gitty", cwd=world["app"])
    assert done.returncode == 0, done.stderr
    assert moved in (world["app"] / "pylock.toml").read_text()
    assert " - gitty==4.0\n + gitty==4.0" in done.stderr
    python = world["app"] / ".venv" / "bin" / "python"
    ran = subprocess.run([python, "-c", "import gitty; print(gitty.WHERE)"], capture_output=True, text=True)
    assert ran.stdout.strip() == "moved"


def test_a_lock_of_local_paths_holds_wherever_the_tree_is_checked_out(world):
    assert freewheel("lock", *world["common"], cwd=world["app"]).returncode == 0
    elsewhere = world["app"].parent / "elsewhere"
    for name in ("app", "local", "edit", "files"):
        shutil.copytree(world["app"].parent / name, elsewhere / name)
    done = freewheel("lock", "--check", *world["common"], cwd=elsewhere / "app")
    assert done.returncode == 0, done.stderr
