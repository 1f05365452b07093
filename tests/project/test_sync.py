"""``freewheel sync``: the project environment becomes exactly the lock's selection.

The locks are written by hand (and checked with ``packaging.pylock``), so
these tests hold whatever writes them; their wheels come from a local index
and from files beside the project.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.pylock import Pylock
from support.builders import make_wheel
from support.server import IndexServer

from freewheel.cli import run

PYPROJECT = """\
[project]
name = "app"
version = "0.1"
requires-python = ">=3.8"
dependencies = ["alpha"]

[project.optional-dependencies]
cpu = ["beta"]

[dependency-groups]
dev = ["gamma"]
lint = ["delta"]
"""


def lock_text(server: IndexServer, wheels: dict[str, object]) -> str:
    def remote(name: str, marker: str | None = None, dependencies: tuple[str, ...] = ()) -> str:
        dist = wheels[name]
        lines = [
            "[[packages]]",
            f'name = "{name}"',
            'version = "1.0"',
            f'index = "{server.url}"',
        ]
        if marker:
            lines.append(f'marker = "{marker}"')
        if dependencies:
            lines.append("dependencies = [" + ", ".join(f'{{ name = "{d}" }}' for d in dependencies) + "]")
        lines += [
            "[[packages.wheels]]",
            f'url = "{server.files_url}{dist.filename}"',
            f'hashes = {{ sha256 = "{dist.sha256}" }}',
        ]
        return "\n".join(lines) + "\n"

    local = wheels["epsilon"]
    return (
        textwrap.dedent(
            """\
            lock-version = "1.0"
            created-by = "hand"
            requires-python = ">=3.8"
            extras = ["cpu"]
            dependency-groups = ["dev", "lint"]
            default-groups = ["dev"]
            """
        )
        + remote("alpha", dependencies=("epsilon",))
        + remote("beta", "'cpu' in extras")
        + remote("gamma", "'dev' in dependency_groups")
        + remote("delta", "'lint' in dependency_groups", ("eta",))
        + remote("eta", "'lint' in dependency_groups")
        + remote("zeta", "sys_platform == 'nowhere'")
        + textwrap.dedent(
            f"""\
            [[packages]]
            name = "epsilon"
            version = "1.0"
            [[packages.wheels]]
            path = "wheels/{local.filename}"
            hashes = {{ sha256 = "{local.sha256}" }}
            """
        )
    )


@pytest.fixture
def project(tmp_path: Path, index_server: Callable[..., IndexServer]) -> tuple[Path, IndexServer]:
    dists = tmp_path / "dists"
    wheels = {name: make_wheel(dists, name, "1.0") for name in ("alpha", "beta", "gamma", "delta", "eta", "zeta")}
    root = tmp_path / "app"
    wheels["epsilon"] = make_wheel(root / "wheels", "epsilon", "1.0")
    server = index_server(dists)
    (root / "pyproject.toml").write_text(PYPROJECT)
    text = lock_text(server, wheels)
    Pylock.from_dict(tomllib.loads(text))  # the test's lock is a valid PEP 751 lock
    (root / "pylock.toml").write_text(text)
    return root, server


def sync(root: Path, capsys: pytest.CaptureFixture[str], *args: str, frozen: bool = True) -> tuple[int, str]:
    """Sync with the test's lock as it is (``--frozen``: these locks are written
    by hand, for indexes the projects do not configure)."""
    code = run(
        ["sync", "--directory", str(root), "--python", sys.executable,
         "--cache-dir", str(root.parent / "cache"), "--no-config", *(["--frozen"] if frozen else []), *args]
    )
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def installed(root: Path) -> list[str]:
    site = next((root / ".venv" / "lib").glob("python*/site-packages"))
    return sorted(p.name.split("-")[0] for p in site.glob("*.dist-info"))


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), ["alpha", "epsilon", "gamma"]),
        (("--extra", "cpu"), ["alpha", "beta", "epsilon", "gamma"]),
        (("--all-extras",), ["alpha", "beta", "epsilon", "gamma"]),
        (("--no-dev",), ["alpha", "epsilon"]),
        (("--no-default-groups",), ["alpha", "epsilon"]),
        (("--group", "lint"), ["alpha", "delta", "epsilon", "eta", "gamma"]),
        (("--all-groups", "--no-group", "dev"), ["alpha", "delta", "epsilon", "eta"]),
        (("--only-group", "lint"), ["delta", "eta"]),
        (("--only-dev",), ["gamma"]),
    ],
)
def test_selection_flags(project, capsys, flags: tuple[str, ...], expected: list[str]) -> None:
    root, _ = project
    code, err = sync(root, capsys, *flags)
    assert code == 0, err
    assert installed(root) == expected


def test_first_sync_creates_the_environment_and_installs(project, capsys) -> None:
    root, _ = project
    code, err = sync(root, capsys)
    assert code == 0, err
    assert "Creating virtual environment at: .venv" in err
    assert "Installed 3 packages" in err
    assert " + alpha==1.0" in err
    assert (root / ".venv" / "pyvenv.cfg").is_file()


def test_extraneous_packages_are_removed_unless_inexact(project, capsys) -> None:
    root, _ = project
    assert sync(root, capsys, "--group", "lint", "--extra", "cpu")[0] == 0
    code, err = sync(root, capsys, "--inexact")
    assert code == 0, err
    assert installed(root) == ["alpha", "beta", "delta", "epsilon", "eta", "gamma"]
    code, err = sync(root, capsys)
    assert code == 0, err
    assert " - delta==1.0" in err
    assert installed(root) == ["alpha", "epsilon", "gamma"]


def test_a_second_sync_reads_no_index(project, capsys) -> None:
    root, server = project
    assert sync(root, capsys)[0] == 0
    asked = len(server.requests)
    assert asked == 2  # alpha and gamma; epsilon is a local file
    code, err = sync(root, capsys)
    assert code == 0, err
    assert "Audited 3 packages" in err
    assert len(server.requests) == asked


def test_offline_sync_installs_from_the_cache(project, capsys) -> None:
    root, server = project
    assert sync(root, capsys)[0] == 0
    shutil.rmtree(root / ".venv")
    server.stop()
    code, err = sync(root, capsys, "--offline")
    assert code == 0, err
    assert installed(root) == ["alpha", "epsilon", "gamma"]


def test_dry_run_changes_nothing(project, capsys) -> None:
    root, server = project
    code, err = sync(root, capsys, "--dry-run")
    assert code == 0, err
    assert "Would change:" in err
    assert " + alpha==1.0" in err
    assert installed(root) == []
    assert server.requests == []


def test_a_damaged_download_installs_nothing(project, capsys) -> None:
    root, _ = project
    lock = root / "pylock.toml"
    text = lock.read_text()
    good = text.split('hashes = { sha256 = "')[1].split('"')[0]
    lock.write_text(text.replace(good, "0" * 64, 1))
    code, err = sync(root, capsys)
    assert code == 2
    assert "nothing was installed" in err
    assert installed(root) == []


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--extra", "gpu"), "The extra `gpu` (--extra) is not in `pylock.toml` (it knows: `cpu`)"),
        (("--group", "docs"), "The dependency group `docs` (--group) is not in `pylock.toml`"),
        (("--only-group", "docs"), "The dependency group `docs` (--only-group) is not in"),
    ],
)
def test_unknown_selection_is_a_usage_error(project, capsys, flags, message: str) -> None:
    root, _ = project
    code, err = sync(root, capsys, *flags)
    assert code == 2
    assert message in err


def test_missing_lock_says_to_lock_first(project, capsys) -> None:
    root, _ = project
    (root / "pylock.toml").unlink()
    code, err = sync(root, capsys)
    assert code == 2
    assert "No lock file: `pylock.toml` does not exist." in err
    assert "freewheel lock" in err


def test_invalid_lock_is_an_error(project, capsys) -> None:
    root, _ = project
    (root / "pylock.toml").write_text('lock-version = "1.0"\n[[packages]]\nversion = "1"\n')
    code, err = sync(root, capsys)
    assert code == 2
    assert "`pylock.toml` is not a valid lock file:" in err
    assert "run `freewheel lock` to write it again" in err


def test_wrong_configuration_stops_sync(project, capsys) -> None:
    root, _ = project
    with (root / "pyproject.toml").open("a") as file:
        file.write('[tool.uv.sources]\nalpha = [{ index = "nightly", marker = "os_name == \'nt\'" }]\n')
    code, err = sync(root, capsys)
    assert code == 2
    assert "`tool.uv.sources.alpha[0]` names the index `nightly`" in err


def test_no_project_is_a_usage_error(tmp_path: Path, capsys) -> None:
    code = run(["sync", "--directory", str(tmp_path), "--no-config"])
    assert code == 2
    assert "No `pyproject.toml` found" in capsys.readouterr().err


def test_run_syncs_then_runs_in_the_environment(project, capsys) -> None:
    root, _ = project
    script = "import alpha, os, sys; print(os.environ['VIRTUAL_ENV']); sys.exit(7)"
    code = run(
        ["run", "--directory", str(root), "--python", sys.executable,
         "--cache-dir", str(root.parent / "cache"), "--no-config", "--frozen", "python", "-c", script]
    )
    # The command's own exit code, after a sync that imported alpha.
    assert code == 7
    assert installed(root) == ["alpha", "epsilon", "gamma"]


def test_run_keeps_what_the_lock_does_not_select_unless_exact(project, capsys) -> None:
    root, _ = project
    assert sync(root, capsys, "--group", "lint")[0] == 0
    base = ["run", "--directory", str(root), "--cache-dir", str(root.parent / "cache"), "--no-config", "--frozen"]
    assert run([*base, "python", "-c", "import delta"]) == 0
    assert run([*base, "--exact", "python", "-c", "pass"]) == 0
    assert installed(root) == ["alpha", "epsilon", "gamma"]


def test_run_takes_a_double_dash_before_the_command_and_passes_a_later_one_on(project, capsys) -> None:
    root, _ = project
    base = ["run", "--directory", str(root), "--cache-dir", str(root.parent / "cache"), "--no-config", "--frozen"]
    script = "import sys; sys.exit(0 if sys.argv[1:] == ['--', '--frozen'] else 9)"
    # As uv's: the first `--` ends run's options, a later one is the command's.
    assert run([*base, "--", "python", "-c", script, "--", "--frozen"]) == 0


def test_run_without_sync_needs_an_environment(project, capsys) -> None:
    root, _ = project
    code = run(["run", "--directory", str(root), "--no-config", "--no-sync", "python", "-V"])
    assert code == 2
    assert "run without --no-sync to create it" in capsys.readouterr().err


BACKEND = '''
import base64, hashlib, pathlib, zipfile

def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

def get_requires_for_build_editable(config_settings=None):
    return []

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    info = "app-0.1.dist-info"
    files = {
        "app.pth": (str(pathlib.Path(__file__).parent / "src") + "\\n").encode(),
        f"{info}/METADATA": b"Metadata-Version: 2.1\\nName: app\\nVersion: 0.1\\n",
        f"{info}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = "".join(f"{p},{_hash(d)},{len(d)}\\n" for p, d in files.items()) + f"{info}/RECORD,,\\n"
    with zipfile.ZipFile(pathlib.Path(wheel_directory) / "app-0.1-py3-none-any.whl", "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        archive.writestr(f"{info}/RECORD", record)
    return "app-0.1-py3-none-any.whl"
'''


def test_the_project_itself_is_installed_editable_once(project, capsys) -> None:
    root, server = project
    (root / "backend.py").write_text(BACKEND)
    (root / "src").mkdir()
    (root / "src" / "app_module.py").write_text("ANSWER = 42\n")
    with (root / "pyproject.toml").open("a") as file:
        file.write('\n[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n')
    with (root / "pylock.toml").open("a") as file:
        file.write('\n[[packages]]\nname = "app"\ndirectory = { path = ".", editable = true }\n')
    Pylock.from_dict(tomllib.loads((root / "pylock.toml").read_text()))
    code, err = sync(root, capsys)
    assert code == 0, err
    assert f" + app==0.1 (from {root.as_uri()})" in err
    assert installed(root) == ["alpha", "app", "epsilon", "gamma"]
    python = root / ".venv" / "bin" / "python"
    answer = subprocess.run([python, "-c", "import app_module; print(app_module.ANSWER)"], capture_output=True, text=True)
    assert answer.stdout.strip() == "42"
    code, err = sync(root, capsys)
    assert code == 0, err
    assert "Audited 4 packages" in err
    code, err = sync(root, capsys, "--no-install-project")
    assert code == 0, err
    assert " - app==0.1" in err


def test_wheels_at_file_urls(project, capsys) -> None:
    root, _ = project
    lock = root / "pylock.toml"
    wheel = next((root / "wheels").glob("epsilon-*.whl"))
    lock.write_text(lock.read_text().replace(f'path = "wheels/{wheel.name}"', f'url = "{wheel.as_uri()}"'))
    Pylock.from_dict(tomllib.loads(lock.read_text()))
    assert wheel.as_uri() in lock.read_text()
    code, err = sync(root, capsys)
    assert code == 0, err
    assert installed(root) == ["alpha", "epsilon", "gamma"]


def test_a_lock_for_another_python_is_refused(project, capsys) -> None:
    root, _ = project
    lock = root / "pylock.toml"
    lock.write_text(lock.read_text().replace('requires-python = ">=3.8"', 'requires-python = ">=3.99"'))
    code, err = sync(root, capsys)
    assert code == 2
    assert "`pylock.toml` is for Python >=3.99; the project environment runs Python 3." in err


def test_locked_and_frozen_exclude_each_other(project, capsys) -> None:
    root, _ = project
    with pytest.raises(SystemExit) as exit:
        sync(root, capsys, "--locked", "--frozen", frozen=False)
    assert exit.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_the_environment_is_reused_or_made_again_for_another_python(project, capsys) -> None:
    root, _ = project
    assert sync(root, capsys)[0] == 0
    code, err = sync(root, capsys)
    assert code == 0, err
    assert "Creating virtual environment" not in err
    # Another release installed beside this one (pyenv's layout), if any.
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}."
    others = [
        p for p in sorted(Path(sys.base_prefix).parent.glob("3.1*/bin/python3"))
        if not p.parent.parent.name.startswith(mine)
    ]
    if not others:
        pytest.skip("needs a second interpreter")
    other = str(others[0])
    code = run(["sync", "--directory", str(root), "--python", other,
                "--cache-dir", str(root.parent / "cache"), "--no-config", "--frozen"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Creating virtual environment at: .venv" in err
    assert installed(root) == ["alpha", "epsilon", "gamma"]


def test_an_interpreter_outside_requires_python_is_refused(project, capsys) -> None:
    root, _ = project
    (root / "pyproject.toml").write_text(PYPROJECT.replace('">=3.8"', '">=3.99"'))
    code, err = sync(root, capsys)
    assert code == 2
    assert "but the project requires Python >=3.99" in err
    assert not (root / ".venv").exists()


@pytest.fixture
def unlocked(tmp_path: Path, index_server: Callable[..., IndexServer]) -> tuple[Path, IndexServer, list[str]]:
    """A project with no lock yet, its index given on the command line."""
    make_wheel(tmp_path / "dists", "alpha", "1.2")
    server = index_server(tmp_path / "dists")
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.8"\ndependencies = ["alpha"]\n'
    )
    common = ["--directory", str(root), "--no-config", "--default-index", server.url,
              "--python", sys.executable, "--cache-dir", str(tmp_path / "cache")]
    return root, server, common


def test_sync_locks_first(unlocked, capsys) -> None:
    root, _, common = unlocked
    code = run(["sync", *common])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Resolved 1 package in" in err
    assert " + alpha==1.2" in err
    Pylock.from_dict(tomllib.loads((root / "pylock.toml").read_text()))
    code = run(["sync", "--locked", *common])
    assert code == 0
    assert "Audited 1 package in" in capsys.readouterr().err


def test_a_no_op_sync_of_an_up_to_date_project_reads_no_index(unlocked, capsys) -> None:
    root, server, common = unlocked
    assert run(["sync", *common]) == 0
    asked = len(server.requests)
    assert run(["sync", *common]) == 0
    assert server.paths()[asked:] == []


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, list[str]]:
    """A workspace: the root needs ``rootdep`` (``rootgroup`` in ``dev``);
    member ``a`` needs ``adep`` and member ``b`` with its extra ``x``
    (``agroup`` in ``dev``); member ``b`` needs ``bdep`` (``bextra`` with ``x``)."""
    wheelhouse = tmp_path / "wheelhouse"
    for name in ("rootdep", "rootgroup", "adep", "agroup", "bdep", "bextra"):
        make_wheel(wheelhouse, name, "1.0")
    root = tmp_path / "ws"
    members = {
        root: '[project]\nname = "root"\nversion = "0.1"\nrequires-python = ">=3.8"\ndependencies = ["rootdep"]\n'
        '[dependency-groups]\ndev = ["rootgroup"]\n[tool.uv.workspace]\nmembers = ["packages/*"]\n',
        root / "packages" / "a": '[project]\nname = "a"\nversion = "0.1"\nrequires-python = ">=3.8"\n'
        'dependencies = ["adep", "b[x]"]\n[dependency-groups]\ndev = ["agroup"]\n'
        '[tool.uv.sources]\nb = { workspace = true }\n',
        root / "packages" / "b": '[project]\nname = "b"\nversion = "0.1"\nrequires-python = ">=3.8"\n'
        'dependencies = ["bdep"]\n[project.optional-dependencies]\nx = ["bextra"]\n',
    }
    for directory, text in members.items():
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "pyproject.toml").write_text(text)
    common = ["--no-config", "--offline", "--no-index", "--find-links", str(wheelhouse),
              "--python", sys.executable, "--cache-dir", str(tmp_path / "cache")]
    return root, common


@pytest.mark.parametrize(
    ("where", "flags", "expected"),
    [
        (".", (), ["rootdep", "rootgroup"]),
        ("packages/a", (), ["adep", "agroup", "bdep", "bextra"]),
        (".", ("--package", "a"), ["adep", "agroup", "bdep", "bextra"]),
        (".", ("--package", "a", "--no-dev"), ["adep", "bdep", "bextra"]),
        (".", ("--package", "b"), ["bdep"]),
        (".", ("--package", "B", "--extra", "x"), ["bdep", "bextra"]),
        ("packages/b", ("--all-packages",), ["adep", "agroup", "bdep", "bextra", "rootdep", "rootgroup"]),
        (".", ("--package", "a", "--only-group", "dev"), ["agroup"]),
    ],
)
def test_sync_in_a_workspace_installs_for_one_member_or_all(workspace, capsys, where, flags, expected) -> None:
    root, common = workspace
    code = run(["sync", "--directory", str(root / where), *common, *flags])
    err = capsys.readouterr().err
    assert code == 0, err
    assert installed(root) == expected


def test_sync_package_names_a_member(workspace, capsys) -> None:
    root, common = workspace
    code = run(["sync", "--directory", str(root), *common, "--package", "nope"])
    err = capsys.readouterr().err
    assert code == 2
    assert "has no member named `nope` (--package); its members: `root`, `a`, `b`" in err
    assert "Traceback" not in err
    with pytest.raises(SystemExit) as exit:
        run(["sync", "--directory", str(root), *common, "--package", "a", "--all-packages"])
    assert exit.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_run_syncs_one_member(workspace, capsys) -> None:
    root, common = workspace
    code = run(["run", "--directory", str(root), *common, "--package", "b", "--exact", "python", "-c", "pass"])
    assert code == 0, capsys.readouterr().err
    assert installed(root) == ["bdep"]
