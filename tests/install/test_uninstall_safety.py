"""What ``freewheel pip uninstall`` never deletes, whatever a RECORD says."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from freewheel.cli import run


def _site_packages(venv: Path) -> Path:
    [site_packages] = venv.glob("lib/python*/site-packages")
    return site_packages


def _fake_install(site_packages: Path, name: str, record: list[str], files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = site_packages / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    dist_info = site_packages / f"{name}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist_info / "RECORD").write_text("".join(f"{line},,\n" for line in [*record, f"{name}-1.0.dist-info/RECORD"]))


def _uninstall(venv: Path, name: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run(["pip", "uninstall", "--python", str(venv / "bin" / "python"), name])
    return code, capsys.readouterr().err


def test_a_symlinked_directory_does_not_lead_uninstall_outside(venv, tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    site_packages = _site_packages(venv)
    (site_packages / "linked").symlink_to(outside, target_is_directory=True)
    _fake_install(site_packages, "sneaky", ["sneaky.py", "linked/precious.txt"], {"sneaky.py": ""})

    code, err = _uninstall(venv, "sneaky", capsys)

    assert code == 2
    assert "outside the environment" in err and "Nothing was removed" in err
    assert (outside / "precious.txt").read_text() == "keep me"
    assert (site_packages / "sneaky.py").exists()


def test_the_environment_itself_survives_a_record_that_lists_it(venv, capsys):
    site_packages = _site_packages(venv)
    relative_root = Path(*[".."] * len(site_packages.relative_to(venv).parts))
    record = ["greedy.py", (relative_root / "bin" / "python3").as_posix(), (relative_root / "pyvenv.cfg").as_posix()]
    _fake_install(site_packages, "greedy", record, {"greedy.py": ""})

    code, err = _uninstall(venv, "greedy", capsys)

    assert code == 0, err
    assert not (site_packages / "greedy.py").exists()
    assert (venv / "pyvenv.cfg").exists() and (venv / "bin" / "python3").exists()
    completed = subprocess.run([str(venv / "bin" / "python3"), "-c", "print('alive')"], capture_output=True, text=True)
    assert completed.stdout.strip() == "alive"


def test_a_file_another_distribution_lists_is_kept(venv, capsys):
    site_packages = _site_packages(venv)
    files = {"ns/__init__.py": "", "ns/a.py": "", "ns/b.py": ""}
    _fake_install(site_packages, "ns-a", ["ns/__init__.py", "ns/a.py"], files)
    _fake_install(site_packages, "ns-b", ["ns/__init__.py", "ns/b.py"], {})

    code, err = _uninstall(venv, "ns-a", capsys)

    assert code == 0, err
    assert sorted(path.name for path in (site_packages / "ns").iterdir()) == ["__init__.py", "b.py"]
