"""``freewheel add`` and ``freewheel remove``: pyproject.toml edited as uv edits it,
keeping everything else of the file as it was."""

from __future__ import annotations

import stat
import sys
import textwrap
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.pylock import Pylock
from packaging.requirements import Requirement
from packaging.version import Version

from support.builders import make_wheel
from support.server import IndexServer

from freewheel.cli import run
from freewheel.project.config import read_project_config
from freewheel.project.edit import with_lower_bound
from freewheel.project.sources import IndexSource, PathSource

ORIGINAL = """\
# The app.
[project]
name = "app"
version = "0.1"
dependencies = [
    "beta>=2",  # why beta
    "delta",
]

[tool.other]
keep   =   "spacing"   # and this comment
"""


def fw(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        code = run([*args, "--directory", str(root), "--no-config"])
    except SystemExit as exit:  # argparse's own usage errors
        code = exit.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(ORIGINAL)
    return tmp_path


def test_add_keeps_formatting_and_comments(root: Path, capsys) -> None:
    code, err = fw(root, capsys, "add", "--frozen", "alpha", "Gamma_Pkg[fast]>=1; python_version >= '3.9'")
    assert code == 0, err
    assert (root / "pyproject.toml").read_text() == textwrap.dedent(
        """\
        # The app.
        [project]
        name = "app"
        version = "0.1"
        dependencies = [
            "alpha",
            "beta>=2",  # why beta
            "delta",
            "gamma-pkg[fast]>=1; python_version >= '3.9'",
        ]

        [tool.other]
        keep   =   "spacing"   # and this comment
        """
    )


def test_add_keeps_the_files_permissions(root: Path, capsys) -> None:
    # The file is rewritten through a temporary file and a rename; a shared
    # project's pyproject.toml must stay readable as it was.
    (root / "pyproject.toml").chmod(0o664)
    code, err = fw(root, capsys, "add", "--frozen", "alpha")
    assert code == 0, err
    assert stat.S_IMODE((root / "pyproject.toml").stat().st_mode) == 0o664


def test_add_replaces_a_listed_package_and_appends_to_unsorted_lists(root: Path, capsys) -> None:
    assert fw(root, capsys, "add", "--frozen", "beta<3")[0] == 0
    assert fw(root, capsys, "add", "--frozen", "--group", "lint", "zed", "abc")[0] == 0
    config = read_project_config(root / "pyproject.toml")
    assert [str(r) for r in config.dependencies] == ["beta<3", "delta"]
    # "zed" then "abc": the list was sorted until "abc" came, then sorted again.
    assert [str(r) for r in config.dependency_groups["lint"]] == ["abc", "zed"]
    text = (root / "pyproject.toml").read_text()
    assert '"beta<3",  # why beta' in text


def test_add_to_extras_and_groups(root: Path, capsys) -> None:
    assert fw(root, capsys, "add", "--frozen", "--optional", "CPU", "torch")[0] == 0
    assert fw(root, capsys, "add", "--frozen", "--dev", "pytest")[0] == 0
    assert fw(root, capsys, "add", "--frozen", "--group", "docs", "sphinx")[0] == 0
    config = read_project_config(root / "pyproject.toml")
    assert [str(r) for r in config.optional_dependencies["cpu"]] == ["torch"]
    assert [str(r) for r in config.dependency_groups["dev"]] == ["pytest"]
    assert [str(r) for r in config.dependency_groups["docs"]] == ["sphinx"]
    assert "[project.optional-dependencies]\ncpu = [\n    \"torch\",\n]\n\n[tool.other]" in (
        root / "pyproject.toml"
    ).read_text()


def test_add_with_a_new_index_writes_the_index_and_a_source(root: Path, capsys) -> None:
    code, err = fw(root, capsys, "add", "--frozen", "--index", "cpu=https://example.invalid/cpu", "torch")
    assert code == 0, err
    text = (root / "pyproject.toml").read_text()
    assert '[[tool.uv.index]]\nname = "cpu"\nurl = "https://example.invalid/cpu"\n' in text
    assert '[tool.uv.sources]\ntorch = { index = "cpu" }\n' in text
    config = read_project_config(root / "pyproject.toml")
    assert config.sources["torch"] == (IndexSource(index="cpu"),)
    # An index the project defines is named alone.
    assert fw(root, capsys, "add", "--frozen", "--index", "cpu", "torchvision")[0] == 0
    config = read_project_config(root / "pyproject.toml")
    assert config.sources["torchvision"] == (IndexSource(index="cpu"),)
    assert len(config.index.indexes) == 1


def test_sources_go_where_the_settings_are_read(root: Path, capsys) -> None:
    with (root / "pyproject.toml").open("a") as file:
        file.write('\n[tool.freewheel]\nindex = [{ name = "cpu", url = "https://example.invalid/cpu" }]\n')
    assert fw(root, capsys, "add", "--frozen", "--index", "cpu", "torch")[0] == 0
    assert "[tool.freewheel.sources]" in (root / "pyproject.toml").read_text()
    assert read_project_config(root / "pyproject.toml").sources["torch"] == (IndexSource(index="cpu"),)


def test_add_an_editable_local_project(root: Path, capsys) -> None:
    lib = root.parent / "libs" / "lib"
    lib.mkdir(parents=True)
    (lib / "pyproject.toml").write_text('[project]\nname = "My_Lib"\nversion = "1"\n')
    code, err = fw(root, capsys, "add", "--frozen", "--editable", str(lib))
    assert code == 0, err
    assert 'my-lib = { path = "../libs/lib", editable = true }' in (root / "pyproject.toml").read_text()
    config = read_project_config(root / "pyproject.toml")
    assert config.sources["my-lib"] == (PathSource(path=lib, editable=True),)
    assert "my-lib" in [str(r) for r in config.dependencies]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "--frozen", "not a requirement!"), "`not a requirement!` is not a valid requirement"),
        (("add", "--frozen", "--editable", "six"), "--editable needs the path of a local project"),
        (("add", "--frozen", "--index", "nightly", "torch"), "--index nightly names no `[[index]]`"),
        (("add", "--frozen", "./missing"), "./missing is not a project directory"),
        (("remove", "--frozen", "six"), "The dependency `six` could not be found in `project.dependencies`."),
        (("remove", "--frozen", "--dev", "beta"), "`beta` is listed in `project.dependencies`"),
        (("add", "--frozen", "--dev", "--group", "x", "six"), "not allowed with argument"),
    ],
)
def test_bad_input_changes_nothing(root: Path, capsys, args: tuple[str, ...], message: str) -> None:
    code, err = fw(root, capsys, *args)
    assert code == 2
    assert message in err
    assert (root / "pyproject.toml").read_text() == ORIGINAL


def test_a_failed_lock_puts_the_file_back(root: Path, capsys) -> None:
    # No index offers `six` here (the tests' default index is a closed port).
    code, err = fw(root, capsys, "add", "six")
    assert code != 0
    assert err.startswith("error:") or "\nerror:" in err
    assert (root / "pyproject.toml").read_text() == ORIGINAL


def test_add_locks_bounds_and_syncs_then_remove(
    tmp_path: Path, capsys, index_server: Callable[..., IndexServer]
) -> None:
    server = index_server(tmp_path / "dists")
    make_wheel(tmp_path / "dists", "alpha", "1.0")
    make_wheel(tmp_path / "dists", "alpha", "1.2", ["beta"])
    make_wheel(tmp_path / "dists", "beta", "2.0")
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.8"\ndependencies = []\n')
    common = ("--default-index", server.url, "--python", sys.executable, "--cache-dir", str(tmp_path / "cache"))
    code, err = fw(root, capsys, "add", "alpha", *common)
    assert code == 0, err
    assert '"alpha>=1.2",' in (root / "pyproject.toml").read_text()
    lock = Pylock.from_dict(tomllib.loads((root / "pylock.toml").read_text()))
    assert {(p.name, str(p.version)) for p in lock.packages} >= {("alpha", "1.2"), ("beta", "2.0")}
    site = next((root / ".venv" / "lib").glob("python*/site-packages"))
    assert sorted(p.name for p in site.glob("*.dist-info")) == ["alpha-1.2.dist-info", "beta-2.0.dist-info"]
    code, err = fw(root, capsys, "remove", "alpha", *common)
    assert code == 0, err
    assert "alpha" not in (root / "pyproject.toml").read_text()
    assert list(site.glob("*.dist-info")) == []


def test_remove_takes_the_requirement_and_its_source(root: Path, capsys) -> None:
    assert fw(root, capsys, "add", "--frozen", "--index", "cpu=https://example.invalid/cpu", "torch")[0] == 0
    assert fw(root, capsys, "add", "--frozen", "--dev", "torch")[0] == 0
    assert fw(root, capsys, "remove", "--frozen", "torch", "delta")[0] == 0
    # The dev group still needs torch from its index.
    assert read_project_config(root / "pyproject.toml").sources["torch"] == (IndexSource(index="cpu"),)
    assert fw(root, capsys, "remove", "--frozen", "--dev", "torch")[0] == 0
    text = (root / "pyproject.toml").read_text()
    assert "[tool.uv.sources]" not in text
    assert "dev = []" in text
    assert '    "beta>=2",  # why beta\n]' in text


def test_lower_bound_as_uv_writes_it() -> None:
    assert str(with_lower_bound(Requirement("six"), Version("1.17.0"))) == "six>=1.17.0"
    assert str(with_lower_bound(Requirement("six<2"), Version("1.17.0"))) == "six<2"
    assert str(with_lower_bound(Requirement("six[x]; os_name == 'nt'"), Version("1"))) == (
        'six[x]>=1; os_name == "nt"'
    )


def test_add_with_extras_and_a_marker(root: Path, capsys) -> None:
    code, err = fw(root, capsys, "add", "--frozen", "--extra", "socks", "-m", "sys_platform == 'linux'", "requests")
    assert code == 0, err
    assert "\"requests[socks]; sys_platform == 'linux'\"," in (root / "pyproject.toml").read_text()
    code, err = fw(root, capsys, "add", "--frozen", "-m", "nonsense", "six")
    assert code == 2
    assert "--marker `nonsense` is not a valid marker" in err
