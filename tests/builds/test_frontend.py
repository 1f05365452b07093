"""The build frontend's options and failures, seen through ``pip install``.

The sdist under test carries its own small backend (``backend-path``) whose
only build requirement, ``helper``, comes from the test's index: the wheel
it builds records the config settings it received and the ``helper`` it
could import, so every test reads back how the build ran.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.backends import sdist_of_tree, write_tree
from support.builders import make_wheel
from support.cli import freewheel

BACKEND = '''
import base64, hashlib, json, pathlib, sys, zipfile

DIST_INFO = "custom-1.0.dist-info"


def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def get_requires_for_build_wheel(config_settings=None):
    return (config_settings or {}).get("extra-requires", "").split()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    settings = config_settings or {}
    if settings.get("fail"):
        print("compiling custom: something went wrong on line 42")
        sys.exit(3)
    try:
        import helper
        found = helper.VERSION
    except ImportError:
        found = None
    files = {
        "custom.py": f"SETTINGS = {json.dumps(settings, sort_keys=True)!r}\\nHELPER = {found!r}\\n".encode(),
        f"{DIST_INFO}/METADATA": b"Metadata-Version: 2.2\\nName: custom\\nVersion: 1.0\\n",
        f"{DIST_INFO}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = "".join(f"{p},{_hash(d)},{len(d)}\\n" for p, d in files.items()) + f"{DIST_INFO}/RECORD,,\\n"
    name = "custom-1.0-py3-none-any.whl"
    with zipfile.ZipFile(pathlib.Path(wheel_directory) / name, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        archive.writestr(f"{DIST_INFO}/RECORD", record)
    return name
'''

PYPROJECT = '[build-system]\nrequires = ["helper"]\nbuild-backend = "backend"\nbackend-path = ["."]\n'
# Static metadata (PEP 643): resolving reads it, only the install builds.
PKG_INFO = "Metadata-Version: 2.2\nName: custom\nVersion: 1.0\n\n"


@pytest.fixture
def server(tmp_path: Path, index_server):
    dists = tmp_path / "dists"
    for version in ("1.0", "2.0", "3.0"):
        make_wheel(dists, "helper", version, files={"helper.py": f"VERSION = {version!r}\n"})
    tree = write_tree(tmp_path / "custom", {"pyproject.toml": PYPROJECT, "backend.py": BACKEND})
    sdist_of_tree(tree, dists, "custom", "1.0", pkg_info=PKG_INFO)
    return index_server(dists)


def _install(tmp_path: Path, server, *args: str, venv: str = "venv", env: dict[str, str] | None = None):
    if not (tmp_path / venv).exists():
        assert freewheel("venv", tmp_path / venv, "-q").returncode == 0
    return freewheel(
        "pip", "install", "custom", "--python", tmp_path / venv, "--default-index", server.url,
        "--cache-dir", tmp_path / "cache", "-v", *args, env=env,
    )


def _built(tmp_path: Path, venv: str = "venv") -> str:
    code = "import custom; print(custom.HELPER, custom.SETTINGS)"
    return subprocess.run([tmp_path / venv / "bin" / "python", "-c", code], capture_output=True, text=True).stdout


def test_builds_in_an_isolated_environment_filled_from_the_index(tmp_path, server):
    done = _install(tmp_path, server)
    assert done.returncode == 0, done.stderr
    assert _built(tmp_path) == "3.0 {}\n"
    assert "Installing build requirements of custom 1.0: helper" in done.stderr
    # The build environment was the build's own: the target has no helper.
    assert not list((tmp_path / "venv" / "lib").glob("python*/site-packages/helper.py"))


def test_build_constraints_narrow_build_requirements(tmp_path, server):
    (tmp_path / "build-constraints.txt").write_text("helper<3\n")
    (tmp_path / "extra.txt").write_text("helper!=2.0\n")
    done = _install(tmp_path, server, "-b", str(tmp_path / "build-constraints.txt"), "-b", str(tmp_path / "extra.txt"))
    assert done.returncode == 0, done.stderr
    assert _built(tmp_path) == "1.0 {}\n"


def test_build_constraints_key_the_build_cache(tmp_path, server):
    done = _install(tmp_path, server)
    assert done.returncode == 0, done.stderr
    assert _built(tmp_path) == "3.0 {}\n"
    # Other constraints fill the build environment with another helper: built again.
    (tmp_path / "c.txt").write_text("helper<3\n")
    done = _install(tmp_path, server, "-b", str(tmp_path / "c.txt"), venv="other")
    assert done.returncode == 0, done.stderr
    assert "Building custom 1.0" in done.stderr
    assert _built(tmp_path, "other") == "2.0 {}\n"
    # The same constraints, from another file: found built.
    (tmp_path / "same.txt").write_text("# again\nhelper <3\n")
    done = _install(tmp_path, server, "--build-constraints", str(tmp_path / "same.txt"), venv="third")
    assert done.returncode == 0, done.stderr
    assert "Building custom 1.0" not in done.stderr
    assert _built(tmp_path, "third") == "2.0 {}\n"


def test_config_settings_reach_the_backend_and_key_the_build_cache(tmp_path, server):
    done = _install(tmp_path, server, "-C", "mode=fast", "--config-settings", "flag=a", "-C", "flag=b")
    assert done.returncode == 0, done.stderr
    assert _built(tmp_path) == '3.0 {"flag": ["a", "b"], "mode": "fast"}\n'
    # Other settings make another wheel; the same ones find it built.
    done = _install(tmp_path, server, "-C", "mode=slow", venv="other")
    assert "Building custom 1.0" in done.stderr
    assert _built(tmp_path, "other") == '3.0 {"mode": "slow"}\n'
    done = _install(tmp_path, server, "-C", "mode=fast", "-C", "flag=a", "-C", "flag=b", venv="third")
    assert done.returncode == 0, done.stderr
    assert "Building custom 1.0" not in done.stderr
    assert _built(tmp_path, "third") == '3.0 {"flag": ["a", "b"], "mode": "fast"}\n'


def test_config_settings_of_one_package_go_to_its_backend_only(tmp_path, server):
    done = _install(
        tmp_path, server, "-C", "mode=fast", "--config-settings-package", "Custom:mode=slow",
        "--config-settings-package", "other:flag=x",
    )
    assert done.returncode == 0, done.stderr
    assert _built(tmp_path) == '3.0 {"mode": "slow"}\n'
    bad = _install(tmp_path, server, "--config-settings-package", "mode=slow", venv="other")
    assert bad.returncode == 2
    assert "--config-settings-package 'mode=slow' is not of the form PACKAGE:KEY=VALUE." in bad.stderr


def test_backend_requirements_asked_by_get_requires_are_installed(tmp_path, server):
    (tmp_path / "c.txt").write_text("helper==1.0\n")
    done = _install(tmp_path, server, "-C", "extra-requires=helper<3", "-b", str(tmp_path / "c.txt"))
    assert done.returncode == 0, done.stderr
    assert _built(tmp_path).startswith("1.0 ")


@pytest.mark.parametrize("flag", ["--no-build-isolation", "--no-build-isolation-package=custom"])
def test_no_build_isolation_builds_in_the_target_environment(tmp_path, server, flag):
    done = _install(tmp_path, server, flag)
    assert done.returncode == 0, done.stderr
    assert "Installing build requirements" not in done.stderr
    assert _built(tmp_path) == "None {}\n"


def test_a_failed_build_says_what_where_and_how_to_reproduce(tmp_path, server):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = _install(tmp_path, server, "-C", "fail=1", env={"TMPDIR": str(scratch)})
    assert done.returncode == 2
    lines = done.stderr[done.stderr.index("error:"):].splitlines()
    assert lines[0].startswith("error: Failed to build custom 1.0 (unpacked from ")
    assert "build_wheel of the build backend backend failed: exit status 3." in lines[0]
    assert "    compiling custom: something went wrong on line 42" in lines
    reproduce = lines[lines.index("To reproduce it by hand:") + 1:]
    assert reproduce[0] == "    freewheel venv /tmp/build-env"
    assert reproduce[1] == "    freewheel pip install --python /tmp/build-env/bin/python helper"
    assert "-m tarfile -e " in reproduce[2] and "custom-1.0.tar.gz /tmp/build-src" in reproduce[2]
    assert reproduce[3].startswith("    cd /tmp/build-src/custom-1.0 && ")
    # Every build directory is gone, after a failure as after a success
    # (the environments' lock files stay, by design).
    assert _left_in(scratch) == []
    assert _install(tmp_path, server, env={"TMPDIR": str(scratch)}).returncode == 0
    assert _left_in(scratch) == []


def _left_in(scratch: Path) -> list[str]:
    return [p.name for p in scratch.iterdir() if p.name != "freewheel-locks"]


def test_invalid_config_setting_is_a_usage_error(tmp_path, server):
    done = _install(tmp_path, server, "-C", "novalue")
    assert done.returncode == 2
    assert "error: --config-setting 'novalue' is not of the form KEY=VALUE." in done.stderr
