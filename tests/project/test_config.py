"""Reading a project and its workspace: what ``lock`` and ``sync`` start from."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from freewheel.errors import FreewheelError, InputError, UsageError
from freewheel.project.config import ConflictItem, read_project_config
from freewheel.project.sources import GitSource, IndexSource, PathSource, UrlSource, WorkspaceSource
from freewheel.project.workspace import discover


def write(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "pyproject.toml"
    path.write_text(textwrap.dedent(text))
    return path


TORCH = """\
[project]
name = "Demo_App"
version = "1.0"
requires-python = ">=3.9"
dependencies = ["torch>=2", "requests"]

[project.optional-dependencies]
CPU = ["torch"]
cu124 = ["torch"]

[dependency-groups]
lint = ["ruff"]
test = ["pytest", { include-group = "lint" }]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.uv]
dev-dependencies = ["ipython"]
environments = ["sys_platform == 'linux'", "sys_platform == 'darwin'"]
required-environments = ["sys_platform == 'linux' and platform_machine == 'x86_64'"]
index-strategy = "unsafe-best-match"
conflicts = [[{ extra = "cpu" }, { extra = "cu124" }]]

[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://example.invalid/cpu"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu124"
url = "https://example.invalid/cu124"
explicit = true

[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu124", extra = "cu124" },
]
lib = { path = "../lib", editable = true }
tool = { git = "https://example.invalid/tool.git", tag = "v1", subdirectory = "py" }
pkg = { url = "https://example.invalid/pkg-1.0.tar.gz" }
pytorch-triton = { index = "pytorch-cpu" }
"""


def test_a_project_read_whole(tmp_path: Path) -> None:
    path = write(tmp_path / "app", TORCH)
    config = read_project_config(path)
    assert config.name == "demo-app"
    assert config.version == Version("1.0")
    assert config.requires_python == SpecifierSet(">=3.9")
    assert [str(r) for r in config.dependencies] == ["torch>=2", "requests"]
    assert config.extras == ("cpu", "cu124")
    assert [str(r) for r in config.dependency_groups["test"]] == ["pytest", "ruff"]
    # The legacy list is uv's `dev` group, installed by default.
    assert [str(r) for r in config.dependency_groups["dev"]] == ["ipython"]
    assert config.default_groups == ("dev",)
    assert config.package is True
    assert config.settings_table == "tool.uv"
    assert config.index.index_strategy == "unsafe-best-match"
    assert [i.name for i in config.index.indexes] == ["pytorch-cpu", "pytorch-cu124"]
    assert config.environments == (Marker("sys_platform == 'linux'"), Marker("sys_platform == 'darwin'"))
    assert len(config.required_environments) == 1
    assert config.conflicts == ((ConflictItem(None, extra="cpu"), ConflictItem(None, extra="cu124")),)
    assert config.sources["torch"] == (
        IndexSource(index="pytorch-cpu", extra="cpu"),
        IndexSource(index="pytorch-cu124", extra="cu124"),
    )
    assert config.sources["pytorch-triton"] == (IndexSource(index="pytorch-cpu"),)
    assert config.sources["lib"] == (PathSource(path=tmp_path / "lib", editable=True),)
    assert config.sources["tool"] == (
        GitSource(git="https://example.invalid/tool.git", tag="v1", subdirectory="py"),
    )
    assert config.sources["pkg"] == (UrlSource(url="https://example.invalid/pkg-1.0.tar.gz"),)


def test_tool_freewheel_wins_over_tool_uv(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [project]
        name = "a"
        [dependency-groups]
        docs = ["sphinx"]
        [tool.freewheel]
        default-groups = ["docs"]
        [tool.uv]
        default-groups = "not even valid"
        """,
    )
    config = read_project_config(path)
    assert config.settings_table == "tool.freewheel"
    assert config.default_groups == ("docs",)
    assert config.package is False


@pytest.mark.parametrize(
    ("tool", "message"),
    [
        (
            'sources = { six = [{ index = "nope", marker = "sys_platform == \'linux\'" }] }',
            "In `pyproject.toml`, `tool.uv.sources.six[0]` names the index `nope`, but no "
            "`[[tool.uv.index]]` entry has that name",
        ),
        (
            'sources = { six = { index = "nope" } }',
            "pins `six` to the index `nope`, but no `[[tool.uv.index]]` entry has that name",
        ),
        ('sources = { six = { foo = "x" } }', "`tool.uv.sources.six` has an unknown key `foo`"),
        ('sources = { six = { rev = "x" } }', "`tool.uv.sources.six` names no source"),
        (
            'sources = { six = { git = "g", url = "u" } }',
            "`tool.uv.sources.six` sets both `git` and `url`",
        ),
        (
            'sources = { six = { git = "g", tag = "a", branch = "b" } }',
            "`tool.uv.sources.six` sets both `tag` and `branch`",
        ),
        ('sources = { six = { url = "u", editable = true } }', "which a `url` source does not take"),
        (
            'sources = { six = { url = "u", marker = "bad marker" } }',
            "`tool.uv.sources.six.marker` is not a valid marker: `bad marker`",
        ),
        (
            'sources = { six = [{ url = "a" }, { url = "b", marker = "os_name == \'nt\'" }] }',
            "`tool.uv.sources.six` has sources 0 and 1 that both apply",
        ),
        ('sources = { six = { url = "u", extra = "gpu" } }', "applies to the extra `gpu`"),
        ('sources = { six = { url = "u", group = "docs" } }', "applies to the dependency group `docs`"),
        ('sources = { six = { workspace = false } }', "sets `workspace = false`"),
        (
            'index = [{ url = "https://a.invalid", explicit = true }]',
            "`[[tool.uv.index]]` entry 1: an `explicit` index needs a `name`",
        ),
        (
            'index = [{ name = "a", url = "https://a.invalid", default = true },'
            ' { name = "b", url = "https://b.invalid", default = true }]',
            "more than one `[[tool.uv.index]]` entry sets `default = true`",
        ),
        ('environments = ["sys_platform = linux"]', "`tool.uv.environments` entry `sys_platform = linux` is not a valid marker"),
        ('required-environments = ["nope"]', "`tool.uv.required-environments` entry `nope` is not a valid marker"),
        ('conflicts = [[{ extra = "cpu" }]]', "`tool.uv.conflicts[0]` must list at least two"),
        ('conflicts = [[{ extra = "cpu" }, { extra = "gpu" }]]', "names the extra `gpu`"),
        ('default-groups = ["docs"]', "`tool.uv.default-groups` names the group `docs`"),
        ('workspace = { members = "a/*" }', "`tool.uv.workspace.members` must be a list of glob patterns"),
    ],
)
def test_wrong_configuration_names_the_file_and_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        f"""\
        [project]
        name = "a"
        version = "1"
        dependencies = ["six"]
        [project.optional-dependencies]
        cpu = []
        [tool.uv]
        {tool}
        """,
    )
    with pytest.raises(InputError) as caught:
        discover(tmp_path)
    assert message in caught.value.message
    assert caught.value.message.startswith("In `pyproject.toml`,")


def test_invalid_version_and_missing_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, '[project]\nname = "a"\nversion = "one"\n')
    with pytest.raises(InputError, match="`project.version` is `one`, which is not a valid version"):
        discover(tmp_path)
    write(tmp_path, '[project]\nversion = "1"\n')
    with pytest.raises(InputError, match="`project.name` must be set"):
        discover(tmp_path)


def test_project_is_found_walking_up(tmp_path: Path) -> None:
    write(tmp_path, '[project]\nname = "top"\n')
    (tmp_path / "src" / "deep").mkdir(parents=True)
    workspace = discover(tmp_path / "src" / "deep")
    assert workspace.project.name == "top"
    assert workspace.directory == tmp_path
    assert list(workspace.members) == ["top"]


def test_no_project_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="No `pyproject.toml` found in"):
        discover(tmp_path)
    with pytest.raises(UsageError, match=r"\(--project\)"):
        discover(tmp_path, project=tmp_path / "elsewhere")


WORKSPACE_ROOT = """\
[project]
name = "root"
version = "0.1"
dependencies = ["alpha"]

[tool.uv.workspace]
members = ["packages/*"]
exclude = ["packages/scratch"]

[tool.uv.sources]
alpha = { workspace = true }
six = { url = "https://example.invalid/six.whl" }
"""


def make_workspace(tmp_path: Path) -> None:
    write(tmp_path, WORKSPACE_ROOT)
    write(
        tmp_path / "packages" / "alpha",
        """\
        [project]
        name = "alpha"
        version = "1"
        dependencies = ["beta", "six"]
        [tool.uv.sources]
        beta = { workspace = true }
        six = { path = "../../wheels/six.whl" }
        """,
    )
    write(tmp_path / "packages" / "beta", '[project]\nname = "beta"\nversion = "1"\n')
    (tmp_path / "packages" / "scratch").mkdir()


def test_workspace_members_and_sources(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    workspace = discover(tmp_path / "packages" / "alpha")
    assert workspace.project.name == "alpha"
    assert workspace.root.name == "root"
    assert workspace.directory == tmp_path
    assert sorted(workspace.members) == ["alpha", "beta", "root"]
    # The member's own source for six overrides the root's; the root's
    # workspace source for alpha holds for the member too.
    sources = workspace.sources(workspace.project)
    assert sources["six"] == (PathSource(path=tmp_path / "wheels" / "six.whl"),)
    assert sources["beta"] == (WorkspaceSource(),)
    assert sources["alpha"] == (WorkspaceSource(),)
    assert discover(tmp_path).project.name == "root"


def test_an_empty_member_directory_is_skipped(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    (tmp_path / "packages" / "gamma").mkdir()
    assert sorted(discover(tmp_path).members) == ["alpha", "beta", "root"]


def test_excluded_directory_is_a_project_of_its_own(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    write(tmp_path / "packages" / "scratch", '[project]\nname = "scratch"\n')
    workspace = discover(tmp_path / "packages" / "scratch")
    assert workspace.root.name == "scratch"
    assert list(workspace.members) == ["scratch"]


def test_virtual_workspace_root(tmp_path: Path) -> None:
    write(tmp_path, '[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    write(tmp_path / "packages" / "beta", '[project]\nname = "beta"\n')
    workspace = discover(tmp_path / "packages" / "beta")
    assert workspace.root.name is None
    assert list(workspace.members) == ["beta"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda root: (root / "packages" / "beta" / "pyproject.toml").rename(root / "packages" / "beta" / "setup.cfg"),
         "`tool.uv.workspace.members` matches `packages/beta`, which has no `pyproject.toml`"),
        (lambda root: write(root / "packages" / "gamma", '[project]\nname = "Beta"\n'),
         "matches two projects named `beta`"),
        (lambda root: write(root / "packages" / "gamma", '[tool.uv]\n'),
         "`packages/gamma`, whose `pyproject.toml` has no `[project]` table"),
        (lambda root: write(root / "packages" / "beta", '[project]\nname = "beta"\n[tool.uv.sources]\nzeta = { workspace = true }\n'),
         "`tool.uv.sources.zeta` says `workspace = true`, but no workspace member is named `zeta`"),
        (lambda root: (root / "pyproject.toml").write_text(
            WORKSPACE_ROOT.replace("[tool.uv.workspace]", '[tool.uv]\nconflicts = [[{ package = "zeta", extra = "a" }, { package = "beta", extra = "b" }]]\n[tool.uv.workspace]')),
         "`tool.uv.conflicts[0]` names the package `zeta`, which is not a workspace member"),
        (lambda root: (root / "pyproject.toml").write_text(
            WORKSPACE_ROOT.replace("[tool.uv.workspace]", '[tool.uv]\nconflicts = [[{ package = "beta", group = "a" }, { package = "beta", group = "b" }]]\n[tool.uv.workspace]')),
         "`tool.uv.conflicts[0]` names the group `a`, which `beta` does not define"),
        (lambda root: write(root / "packages" / "beta", '[project]\nname = "beta"\ndependencies = ["root"]\n'),
         "`beta` depends on `root`, a workspace member, but"),
    ],
)
def test_wrong_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    make_workspace(tmp_path)
    change(tmp_path)
    with pytest.raises(FreewheelError) as caught:
        discover(tmp_path)
    assert message in caught.value.message
