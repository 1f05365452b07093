"""``freewheel venv``: the environments it makes work like ``python -m venv``'s."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.builders import make_wheel

from env.helpers import isolated_env

INTERPRETERS = [
    pytest.param(sys.executable, id="running"),
    # The same installation, outside any virtual environment.
    pytest.param(str(Path(sys.base_prefix, "bin", "python%d.%d" % sys.version_info[:2])), id="base"),
]


def _run(python: Path, code: str) -> list[str]:
    result = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True, env=isolated_env()
    )
    return result.stdout.splitlines()


@pytest.mark.parametrize("python", INTERPRETERS)
def test_environment_runs_with_its_own_prefix_and_site_packages(fw, tmp_path, python):
    root = tmp_path / "env"
    code, _, err = fw("venv", str(root), "--python", python)
    assert code == 0, err
    assert "Activate with: source" in err

    prefix, base_prefix, purelib, version = _run(
        root / "bin" / "python",
        "import sys, sysconfig; print(sys.prefix); print(sys.base_prefix); "
        "print(sysconfig.get_path('purelib')); print('%d.%d' % sys.version_info[:2])",
    )
    assert Path(prefix) == root
    assert base_prefix != prefix
    assert Path(purelib) == root / "lib" / f"python{version}" / "site-packages"
    assert Path(purelib).is_dir()
    for name in ("python3", f"python{version}"):
        assert (root / "bin" / name).resolve() == (root / "bin" / "python").resolve()
    assert (root / ".gitignore").read_text() == "*\n"
    config = (root / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in config
    assert "freewheel = " in config
    assert f"version_info = {version}." in config


def test_base_of_a_virtual_environment_is_its_base_interpreter(fw, tmp_path):
    """Made from a venv's interpreter, the new one must not depend on that venv."""
    first, second = tmp_path / "first", tmp_path / "second"
    assert fw("venv", str(first))[0] == 0
    assert fw("venv", str(second), "--python", str(first))[0] == 0
    shutil.rmtree(first)
    assert _run(second / "bin" / "python", "import sys; print(sys.prefix)") == [str(second)]
    home = next(line for line in (second / "pyvenv.cfg").read_text().splitlines() if line.startswith("home"))
    assert str(first) not in home


def test_prompt_reaches_the_activation_script(fw, tmp_path):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    root = tmp_path / "env"
    assert fw("venv", str(root), "--prompt", "my-project")[0] == 0
    assert "prompt = my-project" in (root / "pyvenv.cfg").read_text()
    script = f'PS1="$ "; . "{root}/bin/activate"; echo "$VIRTUAL_ENV"; echo "$PS1"; command -v python'
    result = subprocess.run([bash, "--norc", "-c", script], capture_output=True, text=True, env=isolated_env())
    virtual_env, ps1, python = result.stdout.splitlines()
    assert virtual_env == str(root)
    assert ps1 == "(my-project) $ "
    assert python == str(root / "bin" / "python")


def test_system_site_packages_are_visible_when_asked_for(fw, tmp_path):
    code = "import sys; print(any(p.startswith(sys.base_prefix) and p.endswith('site-packages') for p in sys.path))"
    assert fw("venv", str(tmp_path / "plain"))[0] == 0
    assert fw("venv", str(tmp_path / "shared"), "--system-site-packages")[0] == 0
    assert _run(tmp_path / "plain" / "bin" / "python", code) == ["False"]
    assert _run(tmp_path / "shared" / "bin" / "python", code) == ["True"]


def test_existing_environment_is_replaced_only_with_clear(fw, tmp_path):
    root = tmp_path / "env"
    assert fw("venv", str(root))[0] == 0
    leftover = next(root.glob("lib/python*/site-packages")) / "leftover.py"
    leftover.write_text("")

    code, _, err = fw("venv", str(root))
    assert code == 2
    assert "virtual environment already exists" in err and "--clear" in err
    assert leftover.exists()

    assert fw("venv", str(root), "--clear")[0] == 0
    assert not leftover.exists()
    assert _run(root / "bin" / "python", "import sys; print(sys.prefix)") == [str(root)]


def test_directory_that_is_not_an_environment_is_never_emptied_by_accident(fw, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "important.txt").write_text("keep me")

    for args in ([], ["--clear"]):
        code, _, err = fw("venv", str(project), *args)
        assert code == 2
        assert "not a virtual environment" in err
        assert (project / "important.txt").read_text() == "keep me"

    assert fw("venv", str(project), "--clear", "--force")[0] == 0
    assert not (project / "important.txt").exists()


def test_empty_directory_is_used(fw, tmp_path):
    root = tmp_path / "env"
    root.mkdir()
    assert fw("venv", str(root))[0] == 0
    assert (root / "pyvenv.cfg").is_file()


def test_default_location_is_dot_venv(fw, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = fw("venv")
    assert code == 0
    assert "Creating virtual environment at: .venv" in err
    assert "Activate with: source .venv/bin/activate" in err
    assert (tmp_path / ".venv" / "pyvenv.cfg").is_file()


def test_unknown_interpreter_is_a_clear_error(fw, tmp_path):
    code, _, err = fw("venv", str(tmp_path / "env"), "--python", str(tmp_path / "no-such-python"))
    assert code == 2
    assert err.startswith("error: ")
    assert not (tmp_path / "env").exists()


@pytest.fixture
def seeds(tmp_path, index_server):
    """An index with a fake pip (98.0 and 99.0), setuptools and wheel."""
    dists = tmp_path / "seeds"
    for version in ("98.0", "99.0"):
        make_wheel(dists, "pip", version, files={
            "pip/__init__.py": "",
            "pip/__main__.py": f"print('fake pip {version}')\n",
            f"pip-{version}.dist-info/entry_points.txt": "[console_scripts]\npip = pip:main\npip3 = pip:main\n",
        })
    make_wheel(dists, "setuptools", "99.0")
    make_wheel(dists, "wheel", "99.0")
    return index_server(dists)


@pytest.mark.parametrize("python", INTERPRETERS)
def test_seed_installs_the_newest_pip_from_the_indexes(fw, tmp_path, python, seeds):
    root = tmp_path / "env"
    code, _, err = fw("venv", str(root), "--seed", "--python", python, "--no-config", "--index-url", seeds.url)
    assert code == 0, err
    assert "Creating virtual environment with seed packages at:" in err
    (version,) = _run(root / "bin" / "python", "import sys; print('%d.%d' % sys.version_info[:2])")
    # As uv: setuptools and wheel only for the Pythons whose venv gave them.
    expected = ["pip"] if tuple(map(int, version.split("."))) >= (3, 12) else ["pip", "setuptools", "wheel"]
    assert [line for line in err.splitlines() if line.startswith(" + ")] == [f" + {n}==99.0" for n in expected]
    assert _run(root / "bin" / "python", "import runpy; runpy.run_module('pip', run_name='__main__')") == [
        "fake pip 99.0"
    ]
    assert sorted(p.name for p in (root / "bin").glob("pip*")) == ["pip", "pip3", f"pip{version}"]


def test_seed_failure_leaves_the_environment_without_seeds(fw, tmp_path, index_server):
    empty = index_server(tmp_path / "nothing")
    root = tmp_path / "env"
    code, _, err = fw("venv", str(root), "--seed", "--python", sys.executable, "--no-config", "--index-url", empty.url)
    assert code == 2
    seeds = "pip" if sys.version_info >= (3, 12) else "pip, setuptools, wheel"
    assert f"error: Could not install the seed packages ({seeds}) into {root}: No solution found" in err
    assert "pip was not found on any index" in err
    assert (root / "pyvenv.cfg").is_file()


def test_environment_can_be_recreated_from_its_own_interpreter(fw, tmp_path):
    root = tmp_path / "env"
    assert fw("venv", str(root))[0] == 0
    assert fw("venv", str(root), "--clear", "--python", str(root / "bin" / "python"))[0] == 0
    assert _run(root / "bin" / "python", "import sys; print(sys.prefix)") == [str(root)]
