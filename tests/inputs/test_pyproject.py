from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from freewheel.config.indexes import Index
from freewheel.errors import InputError
from freewheel.inputs.pyproject import (
    read_freewheel_toml,
    read_index_config,
    read_pyproject,
)

PROJECT = """\
[project]
name = "Example_Proj"
version = "0.1"
requires-python = ">=3.9"
dependencies = ["alpha>=1", "beta; sys_platform == 'win32'"]

[project.optional-dependencies]
Fast = ["gamma"]
test = ["pytest"]
all = ["example-proj[fast,test]; python_version >= '3.10'"]

[dependency-groups]
lint = ["ruff"]
dev = [{ include-group = "lint" }, "example_proj[test]"]
"""


def write(directory: Path, text: str, name: str = "pyproject.toml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def listed(project) -> list[tuple[str, str]]:
    return [(str(e.requirement), e.source.annotation()) for e in project.requirements]


def test_dependencies_name_and_requires_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, PROJECT)
    project = read_pyproject("pyproject.toml")
    assert project.name == "example-proj"
    assert project.requires_python == SpecifierSet(">=3.9")
    assert listed(project) == [
        ("alpha>=1", "example-proj (pyproject.toml)"),
        ('beta; sys_platform == "win32"', "example-proj (pyproject.toml)"),
    ]


def test_relative_direct_reference_is_resolved_against_the_project(tmp_path: Path) -> None:
    path = write(tmp_path, '[project]\nname = "x"\ndependencies = ["lib @ ./libs/lib"]\n')
    (entry,) = read_pyproject(path).requirements
    assert entry.url == (tmp_path / "libs" / "lib").as_uri()
    assert str(entry.requirement) == f"lib @ {entry.url}"


def test_extras_are_matched_by_normalized_name(tmp_path: Path) -> None:
    path = write(tmp_path, PROJECT)
    project = read_pyproject(path, extras=["fast"])
    assert [str(e.requirement) for e in project.requirements] == [
        "alpha>=1",
        'beta; sys_platform == "win32"',
        "gamma",
    ]


def test_self_referencing_extra_expands_with_its_marker(tmp_path: Path) -> None:
    path = write(tmp_path, PROJECT)
    project = read_pyproject(path, extras=["all"])
    assert [str(e.requirement) for e in project.requirements] == [
        "alpha>=1",
        'beta; sys_platform == "win32"',
        'alpha>=1; python_version >= "3.10"',
        'beta; sys_platform == "win32" and python_version >= "3.10"',
        'gamma; python_version >= "3.10"',
        'pytest; python_version >= "3.10"',
    ]
    assert len(read_pyproject(path, all_extras=True).requirements) == 8


def test_unknown_extra_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, PROJECT)
    with pytest.raises(InputError) as info:
        read_pyproject(path, extras=["nope"])
    assert info.value.message == (
        f"Extra `nope` is not defined in `{path}`; it defines: `Fast`, `test`, `all`."
    )


def test_dependency_groups_follow_includes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, PROJECT)
    project = read_pyproject("pyproject.toml", groups=["dev"])
    assert listed(project)[2:] == [
        ("ruff", "example-proj (pyproject.toml:dev)"),
        ("alpha>=1", "example-proj (pyproject.toml:dev)"),
        ('beta; sys_platform == "win32"', "example-proj (pyproject.toml:dev)"),
        ("pytest", "example-proj (pyproject.toml:dev)"),
    ]


def test_groups_without_a_project_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[dependency-groups]\ndocs = ["sphinx"]\n')
    project = read_pyproject(path, groups=["docs"])
    assert project.name is None
    assert [str(e.requirement) for e in project.requirements] == ["sphinx"]
    with pytest.raises(InputError, match=r"has no `\[project\]` table"):
        read_pyproject(path)


def test_unknown_and_cyclic_groups(tmp_path: Path) -> None:
    path = write(tmp_path, PROJECT)
    with pytest.raises(InputError) as info:
        read_pyproject(path, groups=["docs"])
    assert info.value.message == (
        f"Dependency group `docs` is not defined in `{path}`; it defines: `lint`, `dev`."
    )
    cyclic = write(tmp_path, '[dependency-groups]\na = [{include-group = "a"}]\n', "cyclic.toml")
    with pytest.raises(InputError) as info:
        read_pyproject(cyclic, groups=["a"])
    assert info.value.message.startswith(f"`[dependency-groups]` in `{cyclic}` is invalid: Cyclic")


def test_dynamic_dependencies_stand_for_the_project(tmp_path: Path) -> None:
    path = write(tmp_path, '[project]\nname = "dyn"\nversion = "1"\ndynamic = ["dependencies"]\n')
    (own,) = read_pyproject(path, extras=["Fast"]).requirements
    # Its build backend knows them; the resolving command asks it.
    assert (own.url, own.expand, own.extras) == (tmp_path.as_uri(), True, frozenset({"fast"}))


def test_malformed_toml_names_file_and_position(tmp_path: Path) -> None:
    path = write(tmp_path, '[project]\nname = "x"\ndependencies = ["a",,]\n')
    with pytest.raises(InputError) as info:
        read_pyproject(path)
    assert (
        info.value.message == f"`{path}` is not valid TOML: Invalid value (at line 3, column 21)."
    )


def test_bad_requirement_in_pyproject(tmp_path: Path) -> None:
    path = write(tmp_path, '[project]\nname = "x"\ndependencies = ["foo>==1"]\n')
    with pytest.raises(InputError) as info:
        read_pyproject(path)
    assert info.value.message.startswith(
        f"Couldn't parse requirement in `{path}` (`project.dependencies`): `foo>==1`: Expected"
    )


UV_CONFIG = """\
[project]
name = "example"

[tool.uv]
index-strategy = "unsafe-best-match"
prerelease = "allow"
resolution = "lowest-direct"
exclude-newer = "2024-03-25T00:00:00Z"
environments = ["sys_platform == 'linux'"]
conflicts = [[{ extra = "cpu" }, { extra = "gpu" }]]
extra-index-url = ["https://top.example/simple"]
find-links = ["./wheels"]

[tool.uv.pip]
extra-index-url = ["https://pip.example/simple"]
no-index = false

[[tool.uv.index]]
name = "internal"
url = "https://internal.example/simple"
default = true

[[tool.uv.index]]
name = "torch"
url = "https://torch.example/whl/cpu"
explicit = true
authenticate = "always"
ignore-error-codes = [403]
cache-control = { api = "max-age=600", files = "max-age=365000000, immutable" }

[[tool.uv.index]]
url = "./local-flat"
format = "flat"

[tool.uv.sources]
torch = { index = "torch" }
mylib = { path = "../mylib", editable = true }
other = [{ index = "torch", marker = "sys_platform == 'linux'" }]
"""


def test_uv_table_is_read_when_freewheel_table_is_absent(tmp_path: Path) -> None:
    path = write(tmp_path, UV_CONFIG)
    config = read_index_config(path)
    origin = f"{path} [tool.uv.index]"
    assert config.indexes == (
        Index("https://internal.example/simple", name="internal", default=True, origin=origin),
        Index(
            "https://torch.example/whl/cpu",
            name="torch",
            explicit=True,
            origin=origin,
            authenticate="always",
            ignore_error_codes=frozenset({403}),
            cache_control_api="max-age=600",
            cache_control_files="max-age=365000000, immutable",
        ),
        Index((tmp_path / "local-flat").as_uri(), format="flat", origin=origin),
    )
    assert config.pins == {"torch": "torch"}
    assert config.sources == {
        "mylib": {"path": "../mylib", "editable": True},
        "other": [{"index": "torch", "marker": "sys_platform == 'linux'"}],
    }
    assert config.index_strategy == "unsafe-best-match"
    assert config.prerelease == "allow"
    assert config.resolution == "lowest-direct"
    assert config.exclude_newer == "2024-03-25T00:00:00Z"
    assert config.environments == ("sys_platform == 'linux'",)
    assert config.conflicts == ([{"extra": "cpu"}, {"extra": "gpu"}],)
    # [tool.uv.pip] overrides the top level key by key.
    assert config.extra_index_urls == ("https://pip.example/simple",)
    assert config.no_index is False
    assert config.find_links == ((tmp_path / "wheels").as_uri(),)
    assert config.index_url is None
    assert config.source == "[tool.uv]"


def test_freewheel_table_wins_entirely(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        UV_CONFIG
        + """
[tool.freewheel]
index-url = "https://fw.example/simple"

[[tool.freewheel.index]]
name = "mine"
url = "https://mine.example/simple"
""",
    )
    config = read_index_config(path)
    assert config.source == "[tool.freewheel]"
    assert config.indexes == (
        Index("https://mine.example/simple", name="mine", origin=f"{path} [tool.freewheel.index]"),
    )
    assert config.index_url == "https://fw.example/simple"
    assert config.pins == {} and config.index_strategy is None and config.extra_index_urls == ()


def test_no_tool_table_means_nothing_configured(tmp_path: Path) -> None:
    config = read_index_config(write(tmp_path, '[project]\nname = "x"\n'))
    assert config.source is None and config.indexes == () and config.no_index is None


def test_freewheel_toml_has_the_keys_at_top_level(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        index-strategy = "first-index"
        exclude-newer = 2024-01-02

        [[index]]
        name = "corp"
        url = "https://corp.example/simple"

        [sources]
        Some_Pkg = { index = "corp" }
        """,
        "freewheel.toml",
    )
    config = read_freewheel_toml(path)
    assert config.source == str(path)
    assert config.indexes == (
        Index("https://corp.example/simple", name="corp", origin=f"{path} [index]"),
    )
    assert config.pins == {"some-pkg": "corp"}
    assert config.index_strategy == "first-index"
    assert config.exclude_newer == "2024-01-02"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[[tool.uv.index]]\nurl = "https://a.example"\n[[tool.uv.index]]\nname = "b"\n',
            "`[[tool.uv.index]]` entry 2: `url` is missing.",
        ),
        (
            '[[tool.uv.index]]\nurl = "https://a.example"\nformat = "json"\n',
            "`[[tool.uv.index]]` entry 1: `format` is `json`; expected `simple` or `flat`.",
        ),
        (
            '[[tool.uv.index]]\nurl = "https://a.example"\nexplicit = "yes"\n',
            "`[[tool.uv.index]]` entry 1: `explicit` must be `true` or `false`.",
        ),
        (
            '[[tool.uv.index]]\nurl = "https://a.example"\nnmae = "a"\n',
            "`[[tool.uv.index]]` entry 1: unknown key `nmae`.",
        ),
        (
            '[[tool.uv.index]]\nname = "a"\nurl = "https://a.example"\n'
            '[[tool.uv.index]]\nname = "a"\nurl = "https://b.example"\n',
            "`[[tool.uv.index]]` entry 2: the index name `a` is already used by an earlier entry.",
        ),
        (
            '[tool.uv]\nindex-strategy = "best"\n',
            "`tool.uv.index-strategy` is `best`; expected one of `first-index`, "
            "`unsafe-first-match`, `unsafe-best-match`.",
        ),
        (
            '[tool.uv.pip]\nprerelease = "sometimes"\n',
            "`tool.uv.pip.prerelease` is `sometimes`; expected one of `disallow`, `allow`, "
            "`if-necessary`, `explicit`, `if-necessary-or-explicit`.",
        ),
        (
            '[tool.uv.sources]\ntorch = { index = "pytorch" }\n',
            "`[tool.uv.sources]` pins `torch` to the index `pytorch`, but no `[[tool.uv.index]]` "
            "entry has that name.",
        ),
        (
            '[tool.uv]\nextra-index-url = "https://a.example/simple"\n',
            "`tool.uv.extra-index-url` must be a list of strings.",
        ),
        (
            '[[tool.uv.index]]\nurl = "https://a.example"\nignore-error-codes = ["403"]\n',
            "`[[tool.uv.index]]` entry 1: `ignore-error-codes` must be a list of HTTP status "
            "codes, such as `[401, 403]`.",
        ),
        (
            '[[tool.uv.index]]\nurl = "https://a.example"\nignore-error-codes = [4030]\n',
            "`[[tool.uv.index]]` entry 1: `ignore-error-codes` must be a list of HTTP status "
            "codes, such as `[401, 403]`.",
        ),
        (
            '[[tool.uv.index]]\nurl = "https://a.example"\nauthenticate = "sometimes"\n',
            "`[[tool.uv.index]]` entry 1: `authenticate` is `sometimes`; "
            "expected `always`, `never` or `auto`.",
        ),
        (
            '[[tool.uv.index]]\nurl = "https://a.example"\ncache-control = "no-cache"\n',
            "`[[tool.uv.index]]` entry 1: `cache-control` must be a table with keys `api` and "
            "`files`.",
        ),
        (
            '[[tool.uv.index]]\nurl = "https://a.example"\ncache-control = { pages = "no-cache" }\n',
            "`[[tool.uv.index]]` entry 1: `cache-control` has an unknown key `pages`; "
            "use `api` or `files`.",
        ),
        (
            '[[tool.uv.index]]\nurl = "https://a.example"\ncache-control = { api = 600 }\n',
            "`[[tool.uv.index]]` entry 1: `cache-control.api` must be a Cache-Control header "
            'value, such as `"max-age=600"`.',
        ),
    ],
)
def test_index_config_errors(tmp_path: Path, toml: str, message: str) -> None:
    path = write(tmp_path, toml)
    with pytest.raises(InputError) as info:
        read_index_config(path)
    assert info.value.message == f"In `{path}`, {message}"
