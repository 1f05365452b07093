"""``git``, ``path`` and ``url`` sources under a condition (``marker``,
``extra``): the lock forks on the condition and holds one entry per
variant, each with its marker (PEP 751, checked with ``packaging.pylock``);
``sync`` installs the variant whose condition holds here, or for the
extras asked for."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.pylock import Pylock
from support.backends import backend_wheels, flit_project, git_project
from support.builders import make_wheel
from support.cli import freewheel

HERE = f"sys_platform == '{sys.platform}'"
ELSEWHERE = f"sys_platform != '{sys.platform}'"


def _lock(app: Path, *common: str) -> dict:
    done = freewheel("lock", *common, cwd=app)
    assert done.returncode == 0, done.stderr
    data = tomllib.loads((app / "pylock.toml").read_text())
    Pylock.from_dict(data).validate()
    return data


def _entries(data: dict, name: str) -> list[dict]:
    return [p for p in data["packages"] if p["name"] == name]


def _sync(app: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = freewheel("sync", *args, "--python", sys.executable, cwd=app)
    assert done.returncode == 0, done.stderr
    return done


def _run(app: Path, code: str) -> str:
    ran = subprocess.run([app / ".venv" / "bin" / "python", "-c", code], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.strip()


def _installed(app: Path) -> set[str]:
    site = next((app / ".venv" / "lib").glob("python*/site-packages"))
    return {p.name.split("-")[0] for p in site.glob("*.dist-info")}


@pytest.fixture
def index(tmp_path: Path, index_server):
    """An index with beta and gamma, another project's ``bar`` (which needs
    ``foo``), foo 2.0, and the flit-core backend."""
    dists = tmp_path / "dists"
    for name in ("beta", "gamma"):
        make_wheel(dists, name, "1.0")
    make_wheel(dists, "bar", "1.0", requires_dist=["foo"])
    make_wheel(dists, "foo", "2.0")
    backend_wheels("flit-core", dists)
    return index_server(dists)


def _app(tmp_path: Path, dependencies: str, sources: str, extra: str = "") -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text(
        f'[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.8"\ndependencies = {dependencies}\n'
        f"{extra}\n[tool.uv.sources]\n{sources}\n"
    )
    return app


@pytest.mark.parametrize("here", ["first", "second"])
def test_a_path_source_split_by_marker(tmp_path, index, here):
    """Two directories of foo 1.0, one for this platform and one for the
    others; bar (from the index) needs foo too, and gets the same one."""
    flit_project(tmp_path / "first", "foo", "1.0", ["beta"])
    flit_project(tmp_path / "second", "foo", "1.0", ["gamma"])
    first, second = (HERE, ELSEWHERE) if here == "first" else (ELSEWHERE, HERE)
    app = _app(tmp_path, '["foo", "bar"]', f'foo = [\n  {{ path = "../first", marker = "{first}" }},\n'
               f'  {{ path = "../second", marker = "{second}" }},\n]')
    common = ["--no-config", "--default-index", index.url, "--cache-dir", str(tmp_path / "cache")]
    data = _lock(app, *common)
    assert sorted((p["marker"], p["directory"]["path"]) for p in _entries(data, "foo")) == sorted(
        [(first, "../first"), (second, "../second")]
    )
    assert {p["version"] for p in _entries(data, "foo")} == {"1.0"}
    bar = _entries(data, "bar")[0]
    assert sorted(d["directory"]["path"] for d in bar["dependencies"]) == ["../first", "../second"]
    _sync(app, *common)
    assert _run(app, "import foo; print(foo.WHERE)") == here
    wanted, unwanted = ("beta", "gamma") if here == "first" else ("gamma", "beta")
    assert wanted in _installed(app) and unwanted not in _installed(app)
    # The lock reads back as it was written: checking it changes nothing.
    again = freewheel("lock", "--check", *common, cwd=app)
    assert again.returncode == 0, again.stderr
    # Each foo is drawn as its own package, with its own dependency.
    tree = freewheel("tree", "--frozen", *common, cwd=app)
    assert tree.returncode == 0, tree.stderr
    assert tree.stdout == (
        "bar v1.0\n├── foo v1.0 (from ../first)\n│   └── beta v1.0\n"
        "└── foo v1.0 (from ../second)\n    └── gamma v1.0\n"
    )


def test_a_url_source_per_extra(tmp_path, index_server):
    """torchy from one URL with the ``cpu`` extra, another with ``gpu``
    (declared conflicting, as uv requires)."""
    served = tmp_path / "served"
    for variant in ("cpu", "gpu"):
        make_wheel(served, "torchy", f"1.0+{variant}")
    files = index_server(served)
    url = files.files_url + "torchy-1.0%2B{}-py3-none-any.whl"
    app = _app(
        tmp_path, "[]",
        f'torchy = [\n  {{ url = "{url.format("cpu")}", extra = "cpu" }},\n'
        f'  {{ url = "{url.format("gpu")}", extra = "gpu" }},\n]',
        extra='[project.optional-dependencies]\ncpu = ["torchy"]\ngpu = ["torchy"]\n'
        '[tool.uv]\nconflicts = [[{ extra = "cpu" }, { extra = "gpu" }]]\n',
    )
    common = ["--no-config", "--no-index", "--cache-dir", str(tmp_path / "cache")]
    data = _lock(app, *common)
    assert sorted((p["version"], p["marker"], p["archive"]["url"]) for p in _entries(data, "torchy")) == [
        ("1.0+cpu", "'cpu' in extras", url.format("cpu")),
        ("1.0+gpu", "'gpu' in extras", url.format("gpu")),
    ]
    for variant in ("cpu", "gpu"):
        done = _sync(app, *common, "--extra", variant)
        assert f" + torchy==1.0+{variant}" in done.stderr
    done = _sync(app, *common)
    assert " - torchy==1.0+gpu" in done.stderr
    assert "torchy" not in _installed(app)


@pytest.mark.parametrize("here", ["path", "index"])
def test_an_index_source_and_a_path_source_under_markers(tmp_path, index, index_server, here):
    """foo from a directory on one side of a marker, from a second index
    (by name) on the other."""
    flit_project(tmp_path / "local", "foo", "1.0")
    other = tmp_path / "other"
    make_wheel(other, "foo", "3.0")
    second = index_server(other)
    path_marker, index_marker = (HERE, ELSEWHERE) if here == "path" else (ELSEWHERE, HERE)
    app = _app(
        tmp_path, '["foo"]',
        f'foo = [\n  {{ path = "../local", marker = "{path_marker}" }},\n'
        f'  {{ index = "other", marker = "{index_marker}" }},\n]',
        extra=f'[[tool.uv.index]]\nname = "main"\nurl = "{index.url}"\ndefault = true\n'
        f'[[tool.uv.index]]\nname = "other"\nurl = "{second.url}"\nexplicit = true\n',
    )
    # The project's own indexes (not --default-index, which replaces them).
    common = ["--cache-dir", str(tmp_path / "cache")]
    data = _lock(app, *common)
    foo = {p["marker"]: p for p in _entries(data, "foo")}
    assert set(foo) == {HERE, ELSEWHERE}
    assert foo[path_marker]["directory"] == {"path": "../local"}
    assert (foo[index_marker]["version"], foo[index_marker]["index"]) == ("3.0", second.url)
    done = _sync(app, *common)
    assert (" + foo==1.0 (from " if here == "path" else " + foo==3.0") in done.stderr


def test_sources_whose_conditions_overlap_are_refused(tmp_path, index):
    """Without a declared conflict, both extras may be asked for at once:
    two sources of one package would then hold together."""
    for variant in ("a", "b"):
        flit_project(tmp_path / variant, "foo", "1.0")
    app = _app(
        tmp_path, "[]",
        'foo = [\n  { path = "../a", extra = "one" },\n  { path = "../b", extra = "two" },\n]',
        extra='[project.optional-dependencies]\none = ["foo"]\ntwo = ["foo"]\n',
    )
    done = freewheel("lock", "--no-config", "--default-index", index.url, "--cache-dir", tmp_path / "cache", cwd=app)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "Two sources of foo apply where 'one' in extras and 'two' in extras holds" in done.stderr
    assert not (app / "pylock.toml").exists()


def test_a_git_source_for_a_group(tmp_path, index):
    """foo from a git tag in the ``dev`` group, from the index elsewhere."""
    commit = git_project(tmp_path / "repo", "foo", "1.5", "v1")
    app = _app(
        tmp_path, '["foo"]',
        f'foo = [{{ git = "{(tmp_path / "repo").as_uri()}", tag = "v1", subdirectory = "sub", group = "dev" }}]',
        extra='[dependency-groups]\ndev = ["foo"]\n',
    )
    common = ["--no-config", "--default-index", index.url, "--cache-dir", str(tmp_path / "cache")]
    data = _lock(app, *common)
    foo = {p["marker"]: p for p in _entries(data, "foo")}
    assert set(foo) == {"'dev' in dependency_groups", "'dev' not in dependency_groups"}
    assert foo["'dev' in dependency_groups"]["vcs"]["commit-id"] == commit
    assert foo["'dev' not in dependency_groups"]["version"] == "2.0"
    assert " + foo==1.5" in _sync(app, *common).stderr  # dev is a default group
    assert " + foo==2.0" in _sync(app, *common, "--no-dev").stderr
