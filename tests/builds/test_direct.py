"""Direct references: local trees, wheel and sdist files, URLs with a hash
and git repositories, in ``pip compile`` output and in installs (PEP 610)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from support.backends import backend_wheels, flit_project, git_project, sdist_of_tree
from support.builders import make_wheel
from support.cli import freewheel

@pytest.fixture
def world(tmp_path: Path, index_server):
    """An index with beta and flit-core; a local tree, a wheel file, an sdist
    served by URL, and a git repository with the project in a subdirectory."""
    dists = tmp_path / "dists"
    make_wheel(dists, "beta", "1.0")
    backend_wheels("flit-core", dists)
    local = flit_project(tmp_path / "local", "loco", "0.1", ["beta"])
    wheel = make_wheel(tmp_path / "files", "wheelie", "2.0").path
    served = tmp_path / "served"
    sdist = sdist_of_tree(flit_project(tmp_path / "remote-src", "remote", "3.0"), served, "remote", "3.0")
    repo = tmp_path / "repo"
    commit = git_project(repo, "gitty", "4.0", "v4")
    index = index_server(dists)
    files = index_server(served)
    sha = hashlib.sha256(sdist.read_bytes()).hexdigest()
    remote_url = f"{files.files_url}{sdist.name}#sha256={sha}"
    credentialed = remote_url.replace("http://", "http://user:secret@")
    requirements = "\n".join([
        str(local),
        f"wheelie @ {wheel.as_uri()}",
        f"remote @ {credentialed}",
        f"gitty @ git+{repo.as_uri()}@v4#subdirectory=sub",
    ]) + "\n"
    return dict(
        index=index, local=local, wheel=wheel, remote_url=remote_url, repo=repo, commit=commit,
        requirements=requirements, sha=sha,
    )


def test_compile_writes_direct_references_without_credentials(tmp_path, world):
    done = freewheel(
        "pip", "compile", "-", "--default-index", world["index"].url, "--cache-dir", tmp_path / "cache",
        "--no-header", "--no-annotate", input=world["requirements"],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "beta==1.0",
        # Pinned to the commit the tag names, as uv writes it.
        f"gitty @ git+{world['repo'].as_uri()}@{world['commit']}#subdirectory=sub",
        f"loco @ {world['local'].as_uri()}",
        f"remote @ {world['remote_url']}",
        f"wheelie @ {world['wheel'].as_uri()}",
    ]
    assert "secret" not in done.stdout + done.stderr


def test_install_records_where_each_came_from_and_a_second_run_builds_nothing(tmp_path, world):
    cache = tmp_path / "cache"
    for name in ("one", "two"):
        venv = tmp_path / name
        assert freewheel("venv", venv, "-q").returncode == 0
        done = freewheel(
            "pip", "install", "-r", "-", "--python", venv, "--default-index", world["index"].url,
            "--cache-dir", cache, "-v", input=world["requirements"],
        )
        assert done.returncode == 0, done.stderr
        assert ("Building " in done.stderr) == (name == "one"), done.stderr
        code = "import loco, wheelie, remote, gitty, beta; print(loco.WHERE, gitty.__version__)"
        run = subprocess.run([venv / "bin" / "python", "-c", code], capture_output=True, text=True)
        assert run.stdout == "local 4.0\n", run.stderr
    site = next((tmp_path / "two" / "lib").glob("python*/site-packages"))

    def direct_url(dist_info: str) -> dict:
        return json.loads((site / dist_info / "direct_url.json").read_text())

    assert direct_url("loco-0.1.dist-info") == {"url": world["local"].as_uri(), "dir_info": {}}
    assert direct_url("wheelie-2.0.dist-info") == {"url": world["wheel"].as_uri(), "archive_info": {}}
    assert direct_url("remote-3.0.dist-info") == {
        "url": world["remote_url"].split("#")[0], "archive_info": {"hashes": {"sha256": world["sha"]}},
    }
    assert direct_url("gitty-4.0.dist-info") == {
        "url": f"git+{world['repo'].as_uri()}",
        "vcs_info": {"vcs": "git", "commit_id": world["commit"], "requested_revision": "v4"},
        "subdirectory": "sub",
    }
    assert not (site / "beta-1.0.dist-info" / "direct_url.json").exists()
    assert (site / "loco-0.1.dist-info" / "REQUESTED").exists()


def test_a_wrong_hash_is_refused(tmp_path, world):
    bad = world["requirements"].replace(world["sha"], "0" * 64)
    done = freewheel(
        "pip", "compile", "-", "--default-index", world["index"].url, "--cache-dir", tmp_path / "cache", input=bad,
    )
    assert done.returncode == 2
    assert "remote-3.0.tar.gz" in done.stderr and "0" * 64 in done.stderr


def test_a_local_tree_is_rebuilt_when_it_changes(tmp_path, world):
    venv = tmp_path / "venv"
    assert freewheel("venv", venv, "-q").returncode == 0
    args = ["pip", "install", str(world["local"]), "--python", venv, "--default-index", world["index"].url,
            "--cache-dir", tmp_path / "cache", "-v", "--reinstall-package", "loco"]
    assert "Building loco" in freewheel(*args).stderr
    assert "Building loco" not in freewheel(*args).stderr
    (world["local"] / "loco" / "__init__.py").write_text('"""loco"""\n__version__ = "0.1"\nWHERE = "changed"\n')
    done = freewheel(*args)
    assert "Building loco" in done.stderr, done.stderr
    run = subprocess.run([venv / "bin" / "python", "-c", "import loco; print(loco.WHERE)"], capture_output=True, text=True)
    assert run.stdout == "changed\n"


def test_install_dot_and_editable_lines_of_a_requirements_file(tmp_path, world):
    venv = tmp_path / "venv"
    assert freewheel("venv", venv, "-q").returncode == 0
    site = next((venv / "lib").glob("python*/site-packages"))
    common = ["--python", venv, "--default-index", world["index"].url, "--cache-dir", tmp_path / "cache"]
    done = freewheel("pip", "install", ".", *common, cwd=world["local"])
    assert done.returncode == 0, done.stderr
    assert json.loads((site / "loco-0.1.dist-info" / "direct_url.json").read_text())["dir_info"] == {}

    editable = flit_project(tmp_path / "edit", "editme", "0.5")
    (tmp_path / "reqs.txt").write_text("-e ./edit\n")
    before = set(site.rglob("*"))
    done = freewheel("pip", "install", "-r", "reqs.txt", *common, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    check = [venv / "bin" / "python", "-c", "import editme; print(editme.WHERE)"]
    assert subprocess.run(check, capture_output=True, text=True).stdout == "edit\n"
    (editable / "editme" / "__init__.py").write_text('"""editme"""\n__version__ = "0.5"\nWHERE = "edited"\n')
    assert subprocess.run(check, capture_output=True, text=True).stdout == "edited\n"
    assert json.loads((site / "editme-0.5.dist-info" / "direct_url.json").read_text()) == {
        "url": editable.as_uri(), "dir_info": {"editable": True},
    }
    assert freewheel("pip", "uninstall", "editme", "--python", venv).returncode == 0
    # Nothing of it is left: not its .pth, not its .dist-info.
    assert {p for p in site.rglob("*") if "__pycache__" not in p.parts} - before == set()


def test_a_git_checkout_is_kept_per_commit(tmp_path, world):
    """Pinned to a commit, a reference needs the repository only once."""
    pinned = f"gitty @ git+{world['repo'].as_uri()}@{world['commit']}#subdirectory=sub\n"
    args = ["pip", "compile", "-", "--default-index", world["index"].url, "--cache-dir", tmp_path / "cache",
            "--no-header", "--no-annotate"]
    first = freewheel(*args, input=pinned)
    assert first.returncode == 0, first.stderr
    moved = world["repo"].rename(tmp_path / "elsewhere")
    second = freewheel(*args, input=pinned)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout == f"gitty @ git+{world['repo'].as_uri()}@{world['commit']}#subdirectory=sub\n"
    moved.rename(world["repo"])
    missing = freewheel(*args, input=pinned.replace(world["commit"], "v9"))
    assert missing.returncode == 2
    assert "has no revision 'v9'" in missing.stderr


def test_a_short_commit_hash_is_expanded_once_and_checked_out_per_full_commit(tmp_path, world):
    repo, commit = world["repo"], world["commit"]
    args = ["pip", "compile", "-", "--default-index", world["index"].url, "--cache-dir", tmp_path / "cache",
            "--no-header", "--no-annotate"]
    full = f"gitty @ git+{repo.as_uri()}@{commit}#subdirectory=sub\n"
    first = freewheel(*args, input=f"gitty @ git+{repo.as_uri()}@{commit[:7]}#subdirectory=sub\n")
    assert first.returncode == 0, first.stderr
    assert first.stdout == full
    # Another abbreviation of the same commit finds its checkout; with the
    # repository gone, the first one is still known.
    longer = freewheel(*args, input=f"gitty @ git+{repo.as_uri()}@{commit[:12].upper()}#subdirectory=sub\n")
    assert longer.returncode == 0, longer.stderr
    assert longer.stdout == full
    checkouts = [p.name for p in (tmp_path / "cache").rglob("git-*") if p.is_dir() and len(p.name) == 44]
    assert checkouts == [f"git-{commit}"]
    moved = repo.rename(tmp_path / "elsewhere")
    again = freewheel(*args, input=f"gitty @ git+{repo.as_uri()}@{commit[:7]}#subdirectory=sub\n")
    moved.rename(repo)
    assert again.returncode == 0, again.stderr
    assert again.stdout == full
    venv = tmp_path / "venv"
    assert freewheel("venv", venv, "-q").returncode == 0
    installed = freewheel("pip", "install", f"gitty @ git+{repo.as_uri()}@{commit[:7]}#subdirectory=sub",
                          "--python", venv, "--default-index", world["index"].url, "--cache-dir", tmp_path / "cache")
    assert installed.returncode == 0, installed.stderr
    record = json.loads(next(venv.rglob("gitty-4.0.dist-info/direct_url.json")).read_text())
    assert record["vcs_info"] == {"vcs": "git", "commit_id": commit, "requested_revision": commit[:7]}
    unknown = "0000000" if not commit.startswith("0000000") else "1111111"
    missing = freewheel(*args, input=f"gitty @ git+{repo.as_uri()}@{unknown}#subdirectory=sub\n")
    assert missing.returncode == 2, missing.stderr
    assert f"has no revision '{unknown}'" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_compile_writes_an_editable_reference_back_as_editable(tmp_path, world):
    (tmp_path / "reqs.in").write_text(f"-e {world['local']}\n")
    done = freewheel(
        "pip", "compile", "reqs.in", "--default-index", world["index"].url, "--cache-dir", tmp_path / "cache",
        "--no-header", cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"beta==1.0\n    # via loco\n-e {world['local'].as_uri()}\n    # via -r reqs.in\n"
