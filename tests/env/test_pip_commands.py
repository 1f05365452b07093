"""``pip list``, ``freeze``, ``show`` and ``check`` on an environment pip populated.

Expected outputs were taken from uv's ``pip`` commands on the same
environment.
"""

from __future__ import annotations

import json
import platform

import pytest
from support.builders import make_sdist, make_wheel

from env.helpers import new_venv, pip_install


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """An environment holding, as pip installs them:

    * ``app-thing`` 1.0 (``App-Thing`` in its metadata), which requires a
      newer ``lib`` than installed, a missing project, and two more that do
      not apply (a marker for Python 2, an extra);
    * ``lib`` 1.0; ``plain`` 0.5, which requires a Python that does not exist;
    * ``direct`` 3.0, installed from a wheel path (a PEP 610 archive URL);
    * ``edit-me`` 0.1, recorded as an editable install of ``/src/edit-me``.
    """
    tmp = tmp_path_factory.mktemp("populated")
    house = tmp / "house"
    make_wheel(
        house,
        "App-Thing",
        "1.0",
        ["lib>=2", "missing-dep", 'other; python_version < "3"', 'extra-dep; extra == "x"'],
        extras=["x"],
    )
    make_wheel(house, "lib", "1.0")
    make_wheel(house, "plain", "0.5", requires_python=">=99")
    make_wheel(house, "edit-me", "0.1")
    direct = make_wheel(house, "direct", "3.0")
    venv = new_venv(tmp / "venv", tmp / "cache")
    pip_install(
        venv, "--ignore-requires-python", "-f", str(house), "app-thing", "lib==1.0", "plain", "edit-me", str(direct.path)
    )
    (venv.site_packages / "edit_me-0.1.dist-info" / "direct_url.json").write_text(
        json.dumps({"url": "file:///src/edit-me", "dir_info": {"editable": True}})
    )
    return venv


@pytest.fixture
def pip(fw, populated):
    """``freewheel pip ARGS --python <populated environment>``."""

    def run(*args: str) -> tuple[int, str, str]:
        return fw("pip", *args, "--python", str(populated.python))

    return run


def test_list_columns(pip):
    code, out, err = pip("list")
    assert code == 0
    assert out == (
        "Package   Version Editable project location\n"
        "--------- ------- -------------------------\n"
        "app-thing 1.0\n"
        "direct    3.0\n"
        "edit-me   0.1     /src/edit-me\n"
        "lib       1.0\n"
        "plain     0.5\n"
    )
    # Acting on an environment that is neither active nor ./.venv is announced.
    assert "Using Python 3." in err and "environment at:" in err


def test_list_editable_filters(pip):
    assert pip("list", "--editable")[1] == (
        "Package Version Editable project location\n"
        "------- ------- -------------------------\n"
        "edit-me 0.1     /src/edit-me\n"
    )
    assert pip("list", "--exclude-editable")[1] == (
        "Package   Version\n"
        "--------- -------\n"
        "app-thing 1.0\n"
        "direct    3.0\n"
        "lib       1.0\n"
        "plain     0.5\n"
    )


def test_list_freeze_and_json_formats(pip):
    assert pip("list", "--format", "freeze")[1].splitlines() == [
        "app-thing==1.0", "direct==3.0", "edit-me==0.1", "lib==1.0", "plain==0.5"
    ]
    out = pip("list", "--format", "json", "-q")[1]
    assert json.loads(out)[2] == {"name": "edit-me", "version": "0.1", "editable_project_location": "/src/edit-me"}
    assert out.startswith('[{"name":"app-thing","version":"1.0"},')


def test_freeze(pip, populated):
    code, out, _ = pip("freeze")
    assert code == 0
    recorded = json.loads((populated.site_packages / "direct-3.0.dist-info" / "direct_url.json").read_text())
    assert recorded["url"].endswith("/direct-3.0-py3-none-any.whl")
    sha256 = recorded["archive_info"]["hashes"]["sha256"]
    lines = out.splitlines()
    assert lines[:2] == ["app-thing==1.0", f"direct @ {recorded['url']}#sha256={sha256}"]
    assert lines[2:] == ["-e file:///src/edit-me", "lib==1.0", "plain==0.5"]
    assert "-e file:///src/edit-me" not in pip("freeze", "--exclude-editable")[1]


def test_show(pip, populated):
    code, out, _ = pip("show", "lib", "App_Thing")
    assert code == 0
    assert out == (
        "Name: app-thing\n"
        "Version: 1.0\n"
        f"Location: {populated.site_packages}\n"
        "Requires: lib, missing-dep\n"
        "Required-by:\n"
        "---\n"
        "Name: lib\n"
        "Version: 1.0\n"
        f"Location: {populated.site_packages}\n"
        "Requires:\n"
        "Required-by: app-thing\n"
    )
    assert "Editable project location: /src/edit-me\n" in pip("show", "edit-me")[1]


def test_show_files(pip):
    out = pip("show", "--files", "lib")[1]
    files = out.split("Files:\n", 1)[1].splitlines()
    assert "  lib-1.0.dist-info/METADATA" in files
    assert "  lib/__init__.py" in files
    assert files == sorted(files)


def test_show_missing_packages(pip):
    code, out, err = pip("show", "nonexistent")
    assert (code, out) == (1, "")
    assert "warning: Package(s) not found for: nonexistent" in err
    code, out, err = pip("show", "lib", "nonexistent")
    assert code == 0
    assert out.startswith("Name: lib\n")
    assert "nonexistent" in err
    assert pip("show")[0] == 1


def test_check_reports_every_problem(pip):
    code, out, err = pip("check")
    assert code == 1
    assert out == ""
    assert "Checked 5 packages in " in err
    assert err.split("Found 3 incompatibilities\n", 1)[1] == (
        "The package `app-thing` requires `lib>=2`, but `1.0` is installed\n"
        "The package `app-thing` requires `missing-dep`, but it's not installed\n"
        f"The package `plain` requires Python >=99, but `{platform.python_version()}` is installed\n"
    )


def test_check_passes_a_consistent_environment(fw, tmp_path):
    house = tmp_path / "house"
    make_wheel(house, "app", "1.0", ["lib>=1", 'never; sys_platform == "no-such-os"'])
    make_wheel(house, "lib", "1.5")
    venv = new_venv(tmp_path / "venv", tmp_path / "cache")
    pip_install(venv, "-f", str(house), "app", "lib")
    code, out, err = fw("pip", "check", "--python", str(venv.python))
    assert code == 0
    assert "Checked 2 packages" in err
    assert err.endswith("All installed packages are compatible\n")


def test_broken_distribution_is_reported_not_fatal(fw, tmp_path):
    venv = new_venv(tmp_path / "venv", tmp_path / "cache")
    good = venv.site_packages / "good-1.0.dist-info"
    good.mkdir()
    (good / "METADATA").write_text("Metadata-Version: 2.1\nName: good\nVersion: 1.0\n")
    (venv.site_packages / "ghost-1.0.dist-info").mkdir()
    code, out, err = fw("pip", "freeze", "--python", str(venv.python))
    assert (code, out) == (0, "good==1.0\n")
    assert "warning: Ignoring invalid distribution at" in err and "ghost-1.0.dist-info" in err


def test_outdated_against_a_local_index(fw, populated, index_server, tmp_path):
    dists = tmp_path / "dists"
    make_wheel(dists, "lib", "1.0")
    make_wheel(dists, "lib", "2.0")
    make_wheel(dists, "lib", "3.0", tag="cp27-cp27m-manylinux1_x86_64")  # not installable here
    make_wheel(dists, "app-thing", "2.0rc1")  # pre-releases are not offered
    make_sdist(dists, "direct", "4.0")
    make_wheel(dists, "plain", "0.5")
    make_wheel(dists, "edit-me", "0.2", requires_python="<3")  # not for this Python
    server = index_server(dists)

    code, out, _ = fw("pip", "list", "--outdated", "--index-url", server.url, "--python", str(populated.python))
    assert code == 0
    assert out == (
        "Package Version Latest Type\n"
        "------- ------- ------ -----\n"
        "direct  3.0     4.0    sdist\n"
        "lib     1.0     2.0    wheel\n"
    )
    code, out, _ = fw(
        "pip", "list", "--outdated", "--format", "json", "--index-url", server.url, "--python", str(populated.python)
    )
    assert json.loads(out)[1] == {
        "name": "lib", "version": "1.0", "latest_version": "2.0", "latest_filetype": "wheel"
    }


def test_outdated_cannot_be_frozen(pip):
    code, out, err = pip("list", "--outdated", "--format", "freeze")
    assert (code, out) == (2, "")
    assert "--outdated cannot be used with --format freeze" in err
