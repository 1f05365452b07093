"""``freewheel lock`` on the layouts PyTorch users have, each on local indexes:
a universal ``pylock.toml`` that is right for every platform at once."""

from __future__ import annotations

import hashlib
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.pylock import Pylock
from support.builders import make_sdist, make_wheel
from support.cli import freewheel, on_a_terminal

LINUX = "cp311-cp311-linux_x86_64"
MAC = "cp311-none-macosx_11_0_arm64"


def lock(project: Path, *args: str):
    return freewheel("lock", "--cache-dir", project.parent / "cache", *args, cwd=project)


def locked(project: Path) -> list[tuple[str, str, str | None, str | None]]:
    """(name, version, marker, index) of each locked package, validated by packaging."""
    data = tomllib.loads((project / "pylock.toml").read_text())
    Pylock.from_dict(data).validate()
    return [(p["name"], p["version"], p.get("marker"), p.get("index")) for p in data["packages"]]


def selected(project: Path, *, extras: tuple[str, ...] = (), **environment: str) -> dict[str, str]:
    """The locked packages whose markers hold in one environment, with *extras* selected."""
    lock_file = Pylock.from_dict(tomllib.loads((project / "pylock.toml").read_text()))
    values = {**default_environment(), **environment, "extras": set(extras), "dependency_groups": set()}
    return {
        package.name: str(package.version)
        for package in lock_file.packages
        if package.marker is None or package.marker.evaluate(values)  # type: ignore[arg-type]
    }


def write_project(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(text)
    return directory


@pytest.fixture
def indexes(tmp_path: Path, index_server):
    """A default index (torch for macOS, its dependencies) and a CPU index
    (``+cpu`` torch for Linux, and torchvision built against it)."""
    main = tmp_path / "dists" / "main"
    cpu = tmp_path / "dists" / "cpu"
    cu = tmp_path / "dists" / "cu124"
    make_wheel(main, "torch", "2.5.1", ["filelock"], tag=MAC)
    make_wheel(main, "filelock", "3.0")
    make_wheel(main, "numpy", "2.0")
    make_wheel(cpu, "torch", "2.5.1+cpu", ["filelock"], tag=LINUX)
    make_wheel(cu, "torch", "2.5.1+cu124", ["filelock", "nvidia-cudnn"], tag=LINUX)
    make_wheel(main, "nvidia-cudnn", "9.1")
    return {name: index_server(path) for name, path in (("main", main), ("cpu", cpu), ("cu124", cu))}


def test_a_linux_fork_from_the_cpu_index_and_a_mac_fork_from_the_default(tmp_path, indexes):
    project = write_project(tmp_path / "app", f"""
[project]
name = "app"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["torch==2.5.1"]

[[tool.uv.index]]
name = "main"
url = "{indexes['main'].url}"
default = true

[[tool.uv.index]]
name = "pytorch-cpu"
url = "{indexes['cpu'].url}"
explicit = true

[tool.uv.sources]
torch = [{{ index = "pytorch-cpu", marker = "sys_platform == 'linux'" }}]
""")
    result = lock(project)
    assert result.returncode == 0, result.stderr
    packages = locked(project)
    assert ("torch", "2.5.1+cpu", "sys_platform == 'linux'", indexes["cpu"].url) in packages
    assert ("torch", "2.5.1", "sys_platform != 'linux'", indexes["main"].url) in packages
    assert ("filelock", "3.0", None, indexes["main"].url) in packages
    assert selected(project, sys_platform="linux")["torch"] == "2.5.1+cpu"
    assert selected(project, sys_platform="darwin")["torch"] == "2.5.1"
    # Locking again changes nothing, and --check agrees.
    before = (project / "pylock.toml").read_text()
    assert lock(project).returncode == 0
    assert (project / "pylock.toml").read_text() == before
    assert lock(project, "--check").returncode == 0


def test_conflicting_extras_each_with_its_own_index(tmp_path, indexes, index_server):
    vision = tmp_path / "dists" / "vision"
    make_wheel(vision, "torchvision", "0.20.1", ["torch==2.5.1"])
    project = write_project(tmp_path / "app", f"""
[project]
name = "app"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["torchvision"]

[project.optional-dependencies]
cpu = ["torch==2.5.1"]
cu124 = ["torch==2.5.1"]

[dependency-groups]
lint = ["filelock"]
docs = ["numpy"]

[[tool.uv.index]]
name = "main"
url = "{indexes['main'].url}"
default = true

[[tool.uv.index]]
name = "vision"
url = "{index_server(vision).url}"

[[tool.uv.index]]
name = "pytorch-cpu"
url = "{indexes['cpu'].url}"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu124"
url = "{indexes['cu124'].url}"
explicit = true

[tool.uv]
conflicts = [[{{ extra = "cpu" }}, {{ extra = "cu124" }}], [{{ group = "lint" }}, {{ group = "docs" }}]]

[tool.uv.sources]
torch = [
  {{ index = "pytorch-cpu", extra = "cpu" }},
  {{ index = "pytorch-cu124", extra = "cu124" }},
]
""")
    result = lock(project)
    assert result.returncode == 0, result.stderr
    versions = {(name, version): marker for name, version, marker, _ in locked(project)}
    # torchvision needs torch too: with an extra chosen, it gets that extra's torch.
    assert versions[("torch", "2.5.1+cpu")] == "'cpu' in extras"
    assert versions[("torch", "2.5.1+cu124")] == "'cu124' in extras"
    assert versions[("nvidia-cudnn", "9.1")] == "'cu124' in extras"
    cpu = selected(project, extras=("cpu",), sys_platform="linux")
    assert cpu["torch"] == "2.5.1+cpu" and "nvidia-cudnn" not in cpu
    assert selected(project, extras=("cu124",), sys_platform="linux")["torch"] == "2.5.1+cu124"
    cache = ("--cache-dir", project.parent / "cache")
    # uv's words; before anything is installed.
    for args, words in [
        (("sync", "--extra", "cpu", "--extra", "cu124"), "Extras `cpu` and `cu124`"),
        (("sync", "--all-extras"), "Extras `cpu` and `cu124`"),
        (("export", "--extra", "cpu", "--extra", "cu124"), "Extras `cpu` and `cu124`"),
        (("sync", "--group", "lint", "--group", "docs"), "Groups `lint` and `docs`"),
        (("export", "--all-groups"), "Groups `lint` and `docs`"),
    ]:
        python = ("--python", sys.executable) if args[0] == "sync" else ()
        result = freewheel(*args, *python, *cache, cwd=project)
        assert result.returncode == 2, result.stderr
        message = " ".join(result.stderr.split())
        assert f"{words} are incompatible with the declared conflicts" in message
        assert "`tool.uv.conflicts`" in message and "Traceback" not in message
        assert not list(project.glob(".venv/lib/*/site-packages/*.dist-info"))
    result = freewheel("sync", "--extra", "cpu", "--group", "lint", "--python", sys.executable, *cache, cwd=project)
    assert result.returncode == 0, result.stderr


def test_without_config_a_source_still_finds_its_named_index(tmp_path, index_server):
    main, named, other = (tmp_path / "dists" / d for d in ("main", "named", "other"))
    make_wheel(main, "gamma", "1.0")
    make_wheel(named, "beta", "1.0")
    make_wheel(other, "gamma", "2.0")
    urls = {d.name: index_server(d).url for d in (main, named, other)}
    project = write_project(tmp_path / "app", f"""
[project]
name = "app"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["beta", "gamma"]

[[tool.uv.index]]
name = "named"
url = "{urls['named']}"
explicit = true

[[tool.uv.index]]
name = "other"
url = "{urls['other']}"

[tool.uv.sources]
beta = {{ index = "named" }}
""")
    # As uv: --no-config leaves the project's indexes out of the search
    # (gamma comes from the default index), but a source naming one finds it.
    result = lock(project, "--no-config", "--default-index", urls["main"])
    assert result.returncode == 0, result.stderr
    found = {name: (version, index) for name, version, _, index in locked(project)}
    assert found == {"beta": ("1.0", urls["named"]), "gamma": ("1.0", urls["main"])}
    result = lock(project, "--default-index", urls["main"])
    assert result.returncode == 0, result.stderr
    assert {name: version for name, version, _, _ in locked(project)} == {"beta": "1.0", "gamma": "2.0"}


def test_a_nightly_dependency_only_on_the_explicit_index(tmp_path, index_server):
    main = tmp_path / "dists" / "main"
    nightly = tmp_path / "dists" / "nightly"
    make_wheel(main, "filelock", "3.0")
    make_wheel(nightly, "torch", "2.6.0.dev20241201", ["pytorch-triton==3.2.0", "filelock"], tag=LINUX)
    make_wheel(nightly, "pytorch-triton", "3.2.0", tag=LINUX)
    pyproject = f"""
[project]
name = "app"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["torch>=2.6.0.dev0"]

[[tool.uv.index]]
name = "main"
url = "{index_server(main).url}"
default = true

[[tool.uv.index]]
name = "pytorch-nightly"
url = "{index_server(nightly).url}"
explicit = true

[tool.uv.sources]
torch = {{ index = "pytorch-nightly" }}
"""
    project = write_project(tmp_path / "app", pyproject)
    failed = lock(project)
    assert failed.returncode == 1
    message = " ".join(failed.stderr.split())
    assert "pytorch-triton" in message and "pytorch-nightly" in message
    assert 'pytorch-triton = { index = "pytorch-nightly" }' in message
    assert "Traceback" not in failed.stderr

    # The transitive package pinned alone is enough.
    write_project(project, pyproject + 'pytorch-triton = { index = "pytorch-nightly" }\n')
    result = lock(project)
    assert result.returncode == 0, result.stderr
    assert {(n, v) for n, v, _, _ in locked(project)} >= {("torch", "2.6.0.dev20241201"), ("pytorch-triton", "3.2.0")}


def test_a_workspace_of_two_members_locks_into_one_file(tmp_path, index_server):
    dists = tmp_path / "dists"
    make_wheel(dists, "numpy", "2.0")
    make_wheel(dists, "attrs", "24.1")
    root = write_project(tmp_path / "ws", f"""
[project]
name = "ws"
version = "0.1"
requires-python = ">=3.9"
dependencies = ["lib", "attrs"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.uv.workspace]
members = ["packages/*"]

[tool.uv.sources]
lib = {{ workspace = true }}

[[tool.uv.index]]
url = "{index_server(dists).url}"
default = true
""")
    write_project(root / "packages" / "lib", """
[project]
name = "lib"
version = "0.2"
requires-python = ">=3.9"
dependencies = ["numpy>=2"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
""")
    result = lock(root / "packages" / "lib")
    assert result.returncode == 0, result.stderr
    assert not (root / "packages" / "lib" / "pylock.toml").exists()
    data = tomllib.loads((root / "pylock.toml").read_text())
    Pylock.from_dict(data).validate()
    by_name = {p["name"]: p for p in data["packages"]}
    assert set(by_name) == {"ws", "lib", "numpy", "attrs"}
    assert by_name["lib"]["directory"] == {"path": "packages/lib", "editable": True}


def test_check_fails_when_the_lock_is_stale(tmp_path, index_server):
    dists = tmp_path / "dists"
    make_wheel(dists, "attrs", "24.1")
    make_wheel(dists, "numpy", "2.0")
    text = f"""
[project]
name = "app"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["attrs"]

[[tool.freewheel.index]]
url = "{index_server(dists).url}"
default = true
"""
    project = write_project(tmp_path / "app", text)
    missing = lock(project, "--check")
    assert missing.returncode == 2 and "is missing" in missing.stderr
    assert lock(project).returncode == 0
    write_project(project, text.replace('["attrs"]', '["attrs", "numpy"]'))
    stale = lock(project, "--check")
    assert stale.returncode == 2 and "needs to be updated" in stale.stderr
    assert "numpy" not in (project / "pylock.toml").read_text()


def test_the_previous_lock_is_the_preference(tmp_path, index_server):
    dists = tmp_path / "dists"
    make_wheel(dists, "attrs", "24.1")
    server = index_server(dists)
    project = write_project(tmp_path / "app", f"""
[project]
name = "app"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["attrs"]

[[tool.uv.index]]
url = "{server.url}"
default = true
""")
    assert lock(project).returncode == 0
    make_wheel(dists, "attrs", "25.1")
    assert lock(project).returncode == 0
    assert ("attrs", "24.1") in {(n, v) for n, v, _, _ in locked(project)}
    assert lock(project, "--upgrade-package", "attrs").returncode == 0
    assert ("attrs", "25.1") in {(n, v) for n, v, _, _ in locked(project)}
    # Upgrades ask the index again, even within the page's cached freshness.
    make_wheel(dists, "attrs", "26.1")
    assert lock(project, "--upgrade").returncode == 0
    assert ("attrs", "26.1") in {(n, v) for n, v, _, _ in locked(project)}


def test_sync_locks_first_and_installs_the_linux_fork(tmp_path, indexes):
    project = write_project(tmp_path / "app", f"""
[project]
name = "app"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["torch==2.5.1"]

[tool.uv]
package = false

[[tool.uv.index]]
name = "main"
url = "{indexes['main'].url}"
default = true

[[tool.uv.index]]
name = "pytorch-cpu"
url = "{indexes['cpu'].url}"
explicit = true

[tool.uv.sources]
torch = [{{ index = "pytorch-cpu", marker = "sys_platform == 'linux'" }}]
""")
    result = freewheel("sync", "--cache-dir", tmp_path / "cache", cwd=project)
    assert result.returncode == 0, result.stderr
    assert (project / "pylock.toml").is_file()
    site = next((project / ".venv" / "lib").glob("python3.*/site-packages"))
    installed = sorted(p.name for p in site.glob("*.dist-info"))
    assert installed == ["filelock-3.0.dist-info", "torch-2.5.1+cpu.dist-info"]
    # --locked agrees with what sync just wrote; an up-to-date project is
    # checked and synced again without asking any index.
    for server in indexes.values():
        server.requests.clear()
    again = freewheel("sync", "--locked", "--cache-dir", tmp_path / "cache", cwd=project)
    assert again.returncode == 0, again.stderr
    assert [server.requests for server in indexes.values()] == [[], [], []]
    assert lock(project).returncode == 0
    assert [server.requests for server in indexes.values()] == [[], [], []]


def test_a_flat_wheelhouse_without_hashes_is_hashed_into_the_lock(tmp_path):
    wheelhouse = tmp_path / "wheelhouse"
    dist = make_wheel(wheelhouse, "attrs", "24.1+computecanada")
    project = write_project(tmp_path / "app", f"""
[project]
name = "app"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["attrs"]

[[tool.uv.index]]
name = "wheelhouse"
url = "{wheelhouse.as_uri()}"
format = "flat"
default = true
""")
    result = lock(project, "--offline")
    assert result.returncode == 0, result.stderr
    data = tomllib.loads((project / "pylock.toml").read_text())
    (attrs,) = data["packages"]
    assert attrs["version"] == "24.1+computecanada"
    assert attrs["wheels"][0]["hashes"] == {"sha256": hashlib.sha256(dist.path.read_bytes()).hexdigest()}


def test_export_and_tree_read_the_lock(tmp_path, index_server):
    dists = tmp_path / "dists"
    make_wheel(dists, "attrs", "24.1")
    make_wheel(dists, "rich", "13.0", ["pygments", "colorama; sys_platform == 'win32'"])
    make_wheel(dists, "pygments", "2.18")
    make_wheel(dists, "colorama", "0.4.6")
    make_wheel(dists, "pytest", "8.0")
    project = write_project(tmp_path / "app", f"""
[project]
name = "app"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["rich"]

[project.optional-dependencies]
attrs = ["attrs"]

[dependency-groups]
dev = ["pytest"]

[[tool.uv.index]]
url = "{index_server(dists).url}"
default = true
""")
    exported = freewheel("export", "--no-hashes", "--no-header", "--cache-dir", tmp_path / "cache", cwd=project)
    assert exported.returncode == 0, exported.stderr
    lines = [line for line in exported.stdout.splitlines() if not line.startswith((" ", "#"))]
    assert lines == ["colorama==0.4.6 ; sys_platform == 'win32'", "pygments==2.18", "pytest==8.0", "rich==13.0"]
    with_extra = freewheel("export", "--frozen", "--extra", "attrs", "--no-dev", "--no-header", cwd=project)
    assert with_extra.returncode == 0, with_extra.stderr
    assert "attrs==24.1 \\" in with_extra.stdout and "--hash=sha256:" in with_extra.stdout
    assert "pytest" not in with_extra.stdout
    as_lock = freewheel("export", "--frozen", "--format", "pylock.toml", "-o", tmp_path / "out.toml", cwd=project)
    assert as_lock.returncode == 0, as_lock.stderr
    Pylock.from_dict(tomllib.loads((tmp_path / "out.toml").read_text())).validate()

    tree = freewheel("tree", "--frozen", cwd=project)
    assert tree.returncode == 0, tree.stderr
    assert "rich v13.0" in tree.stdout and "pygments v2.18" in tree.stdout
    inverted = freewheel("tree", "--frozen", "--invert", "--package", "pygments", cwd=project)
    assert inverted.returncode == 0, inverted.stderr
    assert inverted.stdout.splitlines()[:2] == ["pygments v2.18", "└── rich v13.0"]
    shallow = freewheel("tree", "--frozen", "--depth", "0", cwd=project)
    assert "pygments" not in shallow.stdout
    assert freewheel("tree", "--frozen", "--package", "nope", cwd=project).returncode == 2


def test_a_relock_keeps_each_forks_versions(tmp_path, index_server):
    dists = tmp_path / "dists"
    make_wheel(dists, "numpy", "1.26", requires_python=">=3.9")
    make_wheel(dists, "numpy", "2.1", requires_python=">=3.10")
    make_wheel(dists, "attrs", "24.1")
    text = f"""
[project]
name = "app"
version = "1.0"
requires-python = ">=3.9"
dependencies = ["numpy; python_version >= '3.10'", "numpy<2; python_version < '3.10'"]

[[tool.uv.index]]
url = "{index_server(dists).url}"
default = true
"""
    project = write_project(tmp_path / "app", text)
    assert lock(project).returncode == 0
    first = {(n, v, m) for n, v, m, _ in locked(project)}
    assert first == {("numpy", "1.26", "python_full_version < '3.10'"), ("numpy", "2.1", "python_version >= '3.10'")}
    # Newer releases, and a changed project: each fork keeps what it had.
    make_wheel(dists, "numpy", "2.2", requires_python=">=3.10")
    make_wheel(dists, "numpy", "1.27", requires_python=">=3.9")
    write_project(project, text.replace('dependencies = [', 'dependencies = ["attrs", '))
    assert lock(project).returncode == 0
    assert {(n, v, m) for n, v, m, _ in locked(project)} == first | {("attrs", "24.1", None)}
    assert lock(project, "--upgrade").returncode == 0
    assert {(n, v) for n, v, _, _ in locked(project)} == {("numpy", "1.27"), ("numpy", "2.2"), ("attrs", "24.1")}


def attrs_project(tmp_path: Path, index_server, tail: str = "") -> Path:
    """A project needing attrs, from an index of its own; *tail* ends its ``pyproject.toml``."""
    dists = tmp_path / "dists"
    make_wheel(dists, "attrs", "24.1")
    return write_project(tmp_path / "app", f"""
[project]
name = "app"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["attrs"]

[[tool.uv.index]]
name = "main"
url = "{index_server(dists).url}"
default = true
{tail}""")


def test_a_source_for_a_package_the_lock_does_not_hold_is_a_warning(tmp_path, index_server):
    project = attrs_project(tmp_path, index_server, '[tool.uv.sources]\natrs = { index = "main" }\n')
    result = lock(project)
    assert result.returncode == 0, result.stderr
    assert "warning: `atrs` has a source in" in result.stderr and "is not in the lock" in result.stderr


def required_project(tmp_path: Path, dependency: str) -> Path:
    """A project on the flat wheelhouse ``tmp_path/wheelhouse`` that requires macOS on arm64."""
    return write_project(tmp_path / "app", f"""
[project]
name = "app"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["{dependency}"]

[tool.uv]
required-environments = ["sys_platform == 'darwin' and platform_machine == 'arm64'"]

[[tool.uv.index]]
name = "wheelhouse"
url = "{(tmp_path / 'wheelhouse').as_uri()}"
format = "flat"
default = true
""")


def test_a_required_environment_forks_off_a_release_with_wheels_for_linux_only(tmp_path):
    make_wheel(tmp_path / "wheelhouse", "fastlib", "2.0", tag="cp311-cp311-manylinux_2_17_x86_64")
    make_wheel(tmp_path / "wheelhouse", "fastlib", "1.0")
    project = required_project(tmp_path, "fastlib")
    result = lock(project, "--offline")
    assert result.returncode == 0, result.stderr
    locked(project)
    assert selected(project, sys_platform="darwin", platform_machine="arm64")["fastlib"] == "1.0"
    assert selected(project, sys_platform="win32", platform_machine="AMD64")["fastlib"] == "1.0"
    # Where its wheel installs, the newest release is still taken.
    assert selected(project, sys_platform="linux", platform_machine="x86_64")["fastlib"] == "2.0"


def test_a_required_environment_no_release_installs_in_is_an_error_naming_it(tmp_path):
    make_wheel(tmp_path / "wheelhouse", "fastlib", "1.0", tag="cp311-cp311-manylinux_2_17_x86_64")
    project = required_project(tmp_path, "fastlib")
    result = lock(project, "--offline")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    environment = "`platform_machine == 'arm64' and sys_platform == 'darwin'`"
    assert f"fastlib 1.0 has no source distribution and no wheel for the required environment {environment}" in result.stderr
    assert "remove that environment from `required-environments`" in result.stderr
    assert not (project / "pylock.toml").exists()


def test_a_required_environment_is_served_by_an_sdist(tmp_path):
    make_wheel(tmp_path / "wheelhouse", "fastlib", "1.0", tag="cp311-cp311-manylinux_2_17_x86_64")
    make_sdist(tmp_path / "wheelhouse", "fastlib", "1.0")
    project = required_project(tmp_path, "fastlib")
    result = lock(project, "--offline")
    assert result.returncode == 0, result.stderr
    assert selected(project, sys_platform="darwin", platform_machine="arm64")["fastlib"] == "1.0"


def test_lock_shows_progress_on_a_terminal_unless_no_progress_or_quiet(tmp_path, index_server):
    project = attrs_project(tmp_path, index_server)
    common = ["lock", "--upgrade", "--cache-dir", tmp_path / "cache"]
    assert "Resolving" in on_a_terminal(*common, cwd=project)
    for flag in ("--no-progress", "-q"):
        shown = on_a_terminal(*common, flag, cwd=project)
        assert "Resolving" not in shown
    assert "Resolving" not in lock(project, "--upgrade").stderr
