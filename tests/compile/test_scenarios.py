"""Data-driven ``freewheel pip compile`` scenarios, one TOML file each.

Each scenario declares indexes (each served on 127.0.0.1 by its own
server, with its own options), the requirements, the command-line
arguments (``{name}`` stands for index *name*'s simple URL, ``{name.flat}``
for its flat page), and either the expected pins or the expected error
text. See ``scenarios/README.md`` for the format.
"""

from __future__ import annotations

import re
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from support.builders import make_sdist, make_wheel

from freewheel.cli import run

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.toml"))
_PLACEHOLDER = re.compile(r"\{(\w[\w-]*)(\.flat)?\}")


def build_dists(directory: Path, packages: dict[str, list[dict]]) -> dict[str, str]:
    """Build every declared file; return yanked reasons by file name."""
    yanked: dict[str, str] = {}
    for name, releases in packages.items():
        for release in releases:
            common = dict(
                requires_python=release.get("requires-python"),
                extras=release.get("extras", ()),
            )
            if release.get("sdist"):
                dist = make_sdist(directory, name, release["version"], release.get("requires", ()), **common)
            else:
                dist = make_wheel(
                    directory,
                    name,
                    release["version"],
                    release.get("requires", ()),
                    tag=release.get("tag", "py3-none-any"),
                    **common,
                )
            if "yanked" in release:
                yanked[dist.filename] = release["yanked"]
    return yanked


def upload_times(packages: dict[str, list[dict]], directory: Path) -> dict[str, datetime]:
    times = {}
    for releases in packages.values():
        for release in releases:
            if "uploaded" in release:
                for path in directory.iterdir():
                    if f"-{release['version']}" in path.name:
                        times[path.name] = datetime.fromisoformat(release["uploaded"])
    return times


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path: Path, tmp_path: Path, index_server, monkeypatch, capsys) -> None:
    scenario = tomllib.loads(path.read_text())
    urls: dict[str, tuple[str, str]] = {}
    for name, spec in scenario.get("indexes", {}).items():
        dists_dir = tmp_path / "dists" / name
        dists_dir.mkdir(parents=True)
        packages = spec.get("dists", {})
        yanked = build_dists(dists_dir, packages)
        options = {k: v for k, v in spec.items() if k != "dists"}
        if "formats" in options:
            options["formats"] = tuple(options["formats"])
        server = index_server(
            dists_dir, yanked=yanked, upload_times=upload_times(packages, dists_dir), **options
        )
        urls[name] = (server.url, server.flat_url)

    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: urls[m[1]][1 if m[2] else 0], text)

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    # A scenario that forgets its default index must fail here, not reach
    # out. The variable would outrank a pyproject's default index, so those
    # scenarios must name one themselves.
    if "pyproject" not in scenario:
        monkeypatch.setenv("FREEWHEEL_DEFAULT_INDEX", "http://127.0.0.1:9/simple/")
    sources = []
    if "pyproject" in scenario:
        (work / "pyproject.toml").write_text(fill(scenario["pyproject"]))
        sources.append("pyproject.toml")
    if "requirements" in scenario:
        (work / "requirements.in").write_text("\n".join(scenario["requirements"]) + "\n")
        sources.insert(0, "requirements.in")
    for name, text in scenario.get("files", {}).items():
        (work / name).write_text(fill(text))
    args = [fill(a) for a in scenario.get("args", [])]
    # A universal resolution is for every platform.
    platform = [] if "--universal" in args else ["--python-platform", scenario.get("python-platform", "x86_64-manylinux_2_28")]
    argv = ["pip", "compile", *sources, "--no-header", "--no-annotate",
            "--python-version", scenario.get("python-version", "3.11"), *platform, *args]

    code = run(argv)
    out, err = capsys.readouterr()
    expect = scenario["expect"]
    assert code == expect.get("exit", 0), err
    if "pins" in expect:
        pins = [line for line in out.splitlines() if line and not line.startswith(("#", " "))]
        assert pins == expect["pins"], err
    for fragment in expect.get("error", []):
        assert fragment in " ".join(err.split()), err
    assert "Traceback" not in err
