from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from freewheel.errors import InputError
from freewheel.inputs.setup_cfg import read_setup_cfg

SETUP_CFG = """\
[metadata]
name = My.Project

[options]
python_requires = >=3.8
install_requires =
    alpha>=1.0
    # a comment
    beta; python_version < "3.11"

[options.extras_require]
Docs = sphinx; furo
test =
    pytest>=8
"""


def write(directory: Path, text: str) -> Path:
    path = directory / "setup.cfg"
    path.write_text(textwrap.dedent(text))
    return path


def test_install_requires_and_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, SETUP_CFG)
    project = read_setup_cfg("setup.cfg")
    assert project.name == "my-project"
    assert project.requires_python == SpecifierSet(">=3.8")
    assert [str(e.requirement) for e in project.requirements] == [
        "alpha>=1.0",
        'beta; python_version < "3.11"',
    ]
    assert project.requirements[0].source.annotation() == "my-project (setup.cfg)"


def test_extras_split_like_setuptools(tmp_path: Path) -> None:
    path = write(tmp_path, SETUP_CFG)
    # A one-line value is ";"-separated, as setuptools reads it.
    docs = read_setup_cfg(path, extras=["docs"])
    assert [str(e.requirement) for e in docs.requirements][2:] == ["sphinx", "furo"]
    everything = read_setup_cfg(path, all_extras=True)
    assert [str(e.requirement) for e in everything.requirements][2:] == [
        "sphinx",
        "furo",
        "pytest>=8",
    ]


def test_unknown_extra(tmp_path: Path) -> None:
    path = write(tmp_path, SETUP_CFG)
    with pytest.raises(InputError) as info:
        read_setup_cfg(path, extras=["gui"])
    assert info.value.message == (
        f"Extra `gui` is not defined in `[options.extras_require]` of `{path}`; "
        "it defines: `Docs`, `test`."
    )


def test_bad_requirement(tmp_path: Path) -> None:
    path = write(tmp_path, "[options]\ninstall_requires =\n    ok\n    foo>==1\n")
    with pytest.raises(InputError) as info:
        read_setup_cfg(path)
    assert info.value.message.startswith(
        f"Couldn't parse requirement in `{path}` ([options] install_requires): `foo>==1`: Expected"
    )


def test_no_static_requirements(tmp_path: Path) -> None:
    project = read_setup_cfg(write(tmp_path, "[metadata]\nversion = 1\n"))
    assert project.name is None and project.requirements == () and project.requires_python is None
