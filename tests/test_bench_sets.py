"""The benchmarks' synthetic registries: the same for a seed, the size they
claim, and a resolution that has to step back from the trap projects."""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.utils import parse_sdist_filename
from packaging.version import Version

from freewheel.cli import run

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from synthetic import SHAPES, build_registry, plan_registry, serve  # noqa: E402


def test_plans_depend_only_on_the_seed():
    for name, projects in (("small", 12), ("large", 120)):
        registry = plan_registry(SHAPES[name], 7, name)
        assert registry == plan_registry(SHAPES[name], 7, name)
        assert len(registry.projects) == projects
        assert registry.traps
    assert plan_registry(SHAPES["small"], 7, "small") != plan_registry(SHAPES["small"], 8, "small")


def test_the_sdists_shape_is_the_small_one_with_three_sdist_only_projects(tmp_path):
    registry = plan_registry(SHAPES["sdists"], 7, "s")
    small = plan_registry(SHAPES["small"], 7, "s")
    sdist_only = {release.name for release in registry.releases if release.sdist}
    assert len(sdist_only) == 3 and not sdist_only & set(registry.traps)
    assert [(r.name, r.version, r.requires) for r in registry.releases] == [
        (r.name, r.version, r.requires) for r in small.releases
    ]
    files = {path.name for path in build_registry(registry, tmp_path / "dists").iterdir()}
    assert any(name.startswith("setuptools-") for name in files)
    built = {parse_sdist_filename(name)[0] for name in files if name.endswith(".tar.gz")}
    assert built == sdist_only
    assert not any(name.startswith(tuple(n.replace("-", "_") + "-" for n in sdist_only)) for name in files
                   if name.endswith(".whl"))


def test_small_set_resolves_every_project_below_newest_only_for_traps(tmp_path, capsys):
    registry = plan_registry(SHAPES["small"], 7, "small")
    dists = build_registry(registry, tmp_path / "dists")
    requirements = tmp_path / "small.in"
    requirements.write_text(registry.requirements_in())

    with serve(dists, metadata=False) as server:
        code = run([
            "pip", "compile", "--no-config", str(requirements), "--index-url", server.url,
            "--python-version", "3.11", "--python-platform", "linux",
            "--cache-dir", str(tmp_path / "cache"), "--no-header", "--no-annotate",
        ])
    assert code == 0, capsys.readouterr().err
    pins = dict(line.split("==") for line in capsys.readouterr().out.splitlines())
    assert set(pins) == registry.projects

    newest: dict[str, Version] = {}
    for release in registry.releases:
        newest[release.name] = max(newest.get(release.name, Version("0")), Version(release.version))
    held_back = {name for name, version in pins.items() if Version(version) < newest[name]}
    assert held_back == set(registry.traps)
    # Without metadata files the only way to the dependencies is the wheels.
    assert any(r.path.startswith("/files/") and "range" in r.headers for r in server.requests)
