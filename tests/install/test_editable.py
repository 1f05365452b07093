"""``freewheel pip install -e``: a PEP 660 editable install, end to end.

The project under test carries its own tiny build backend (``backend-path``)
with no build requirements, so the isolated build needs no index.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from wheelkit import build_wheel

from freewheel.cli import run

BACKEND = '''
import base64, hashlib, pathlib, zipfile

NAME, VERSION = "demo_edit", "0.1"
DIST_INFO = f"{NAME}-{VERSION}.dist-info"


def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def get_requires_for_build_editable(config_settings=None):
    return []


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    root = pathlib.Path(__file__).parent
    files = {
        f"{NAME}.pth": (str(root / "src") + "\\n").encode(),
        f"{DIST_INFO}/METADATA": b"Metadata-Version: 2.1\\nName: demo-edit\\nVersion: 0.1\\nRequires-Dist: world>=1\\n",
        f"{DIST_INFO}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = "".join(f"{p},{_hash(d)},{len(d)}\\n" for p, d in files.items()) + f"{DIST_INFO}/RECORD,,\\n"
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(pathlib.Path(wheel_directory) / name, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        archive.writestr(f"{DIST_INFO}/RECORD", record)
    return name
'''


def make_project(root: Path) -> Path:
    root.mkdir()
    (root / "backend.py").write_text(BACKEND)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "demo-edit"\nversion = "0.1"\ndependencies = ["world>=1"]\n'
    )
    (root / "src").mkdir()
    (root / "src" / "demo_edit.py").write_text("ANSWER = 1\n")
    return root


def test_editable_install_tracks_the_source_and_resolves_its_dependencies(tmp_path, index_server, monkeypatch, capsys):
    dists = tmp_path / "dists"
    build_wheel(dists, "world", "1.0", {"world.py": "X = 1\n"})
    server = index_server(dists)
    project = make_project(tmp_path / "project")
    monkeypatch.chdir(tmp_path)
    assert run(["venv", str(tmp_path / "venv"), "-q"]) == 0
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "venv"))

    assert run(["pip", "install", "-e", str(project), "--default-index", server.url]) == 0
    err = capsys.readouterr().err
    assert f" + demo-edit==0.1 (from {project.as_uri()})" in err and " + world==1.0" in err

    python = str(tmp_path / "venv" / "bin" / "python")
    check = [python, "-c", "import demo_edit, world; print(demo_edit.ANSWER)"]
    assert subprocess.run(check, capture_output=True, text=True).stdout == "1\n"
    (project / "src" / "demo_edit.py").write_text("ANSWER = 2\n")
    assert subprocess.run(check, capture_output=True, text=True).stdout == "2\n"

    site = next((tmp_path / "venv" / "lib").glob("python*/site-packages"))
    direct_url = json.loads((site / "demo_edit-0.1.dist-info" / "direct_url.json").read_text())
    assert direct_url == {"url": project.as_uri(), "dir_info": {"editable": True}}
    # The user asked for the project, not for what it depends on.
    assert (site / "demo_edit-0.1.dist-info" / "REQUESTED").exists()
    assert not (site / "world-1.0.dist-info" / "REQUESTED").exists()
    assert run(["pip", "freeze"]) == 0
    assert f"-e {project.as_uri()}" in capsys.readouterr().out


def test_not_a_project_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run(["venv", str(tmp_path / "venv"), "-q"]) == 0
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "venv"))
    assert run(["pip", "install", "-e", str(tmp_path)]) == 2
    assert "is not a Python project directory" in capsys.readouterr().err
