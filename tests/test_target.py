"""Target environments: overrides, marker evaluation and wheel ranking."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import msgspec
import pytest
from packaging.markers import Marker
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from freewheel.errors import UsageError
from freewheel.python.interpreters import current_interpreter, probe
from freewheel.python.target import TargetEnvironment, for_request, from_interpreter


@pytest.fixture(autouse=True)
def isolated(monkeypatch):
    """macOS targets read this; the shared conftest already hides pip's settings."""
    monkeypatch.delenv("MACOSX_DEPLOYMENT_TARGET", raising=False)


@pytest.fixture(scope="module")
def base():
    return current_interpreter()


def wheel_tags(filename: str) -> frozenset[Tag]:
    return parse_wheel_filename(filename)[3]


def test_compiled_wheel_beats_pure_python_wheel():
    target = for_request(None, python_version="3.11", python_platform="linux")
    compiled = target.tag_priority(wheel_tags("pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"))
    pure = target.tag_priority(wheel_tags("pkg-1.0-py3-none-any.whl"))
    assert compiled is not None and pure is not None
    assert compiled < pure


def test_tag_priority_takes_the_best_of_a_wheels_tags():
    target = for_request(None, python_version="3.11", python_platform="linux")
    multi = wheel_tags("pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    best = Tag("cp311", "cp311", "manylinux_2_17_x86_64")
    assert target.tag_priority(multi) == target.tags.index(best)
    newer_glibc = wheel_tags("pkg-1.0-cp311-cp311-manylinux_2_28_x86_64.whl")
    assert target.tag_priority(newer_glibc) < target.tag_priority(multi)


def test_unsupported_wheels_rank_none():
    target = for_request(None, python_version="3.11", python_platform="linux")
    assert target.tag_priority(wheel_tags("pkg-1.0-cp311-cp311-win_amd64.whl")) is None
    assert target.tag_priority(wheel_tags("pkg-1.0-cp311-cp311-manylinux_2_31_x86_64.whl")) is None
    assert target.tag_priority(wheel_tags("pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl")) is None
    assert target.tag_priority([]) is None


def test_python_version_override_gives_its_markers_and_tags(base):
    target = for_request(base, python_version="3.8", python_platform=None)
    assert target.python_version == Version("3.8")
    assert target.markers["python_version"] == "3.8"
    assert target.markers["python_full_version"] == "3.8.0"
    assert target.markers["sys_platform"] == base.markers["sys_platform"]
    first = target.tags[0]
    assert (first.interpreter, first.abi) == ("cp38", "cp38")
    assert first.platform == base.platform.platform_tags()[0]
    interpreters = {tag.interpreter for tag in target.tags}
    assert "cp39" not in interpreters
    assert f"cp{base.version[0]}{base.version[1]}" not in interpreters
    # abi3 wheels built for older CPythons still install; newer ones do not.
    assert target.tag_priority(wheel_tags(f"p-1-cp32-abi3-{first.platform}.whl")) is not None
    assert target.tag_priority(wheel_tags(f"p-1-cp39-abi3-{first.platform}.whl")) is None
    assert target.evaluate(Marker('python_version < "3.9"'))
    assert target.evaluate(Marker('python_full_version == "3.8.0"'))


def test_python_version_with_patch_is_kept(base):
    target = for_request(base, python_version="3.9.7", python_platform=None)
    assert target.markers["python_full_version"] == "3.9.7"
    assert target.markers["implementation_version"] == "3.9.7"
    assert target.describe().startswith("CPython 3.9.7 on ")


@pytest.mark.parametrize("bad", ["banana", "2.7", "3", "3.11.x", "3.11.2.1"])
def test_malformed_python_version(bad, base):
    with pytest.raises(UsageError, match="Invalid Python version"):
        for_request(base, python_version=bad, python_platform=None)


def test_python_platform_override_keeps_the_python(base):
    target = for_request(base, python_version=None, python_platform="windows")
    assert target.markers["sys_platform"] == "win32"
    assert target.markers["platform_machine"] == "AMD64"
    assert target.markers["python_full_version"] == base.markers["python_full_version"]
    cp = f"cp{base.version[0]}{base.version[1]}"
    assert target.tags[0] == Tag(cp, base.abis[0], "win_amd64")
    assert {tag.platform for tag in target.tags} == {"win_amd64", "any"}
    assert target.evaluate(Marker('os_name == "nt" and platform_system == "Windows"'))


def test_both_overrides_combine(base):
    target = for_request(base, python_version="3.9", python_platform="macos")
    assert target.tags[0] == Tag("cp39", "cp39", "macosx_13_0_arm64")
    assert target.markers["python_version"] == "3.9"
    assert target.markers["sys_platform"] == "darwin"
    assert target.describe() == "CPython 3.9 on macos"
    universal2 = wheel_tags("pkg-1.0-cp39-cp39-macosx_10_9_universal2.whl")
    assert target.tag_priority(universal2) is not None


def test_no_base_means_the_running_interpreter():
    target = for_request(None, python_version=None, python_platform=None)
    assert target.python_version == Version(platform.python_version())
    assert target.markers["python_full_version"] == platform.python_version()


def test_free_threaded_base_stays_free_threaded(base):
    threaded = msgspec.structs.replace(base, version=(3, 13, 0), abis=("cp313t",))
    target = for_request(threaded, python_version="3.14", python_platform="linux")
    assert target.tags[0] == Tag("cp314", "cp314t", "manylinux_2_28_x86_64")
    assert not any(tag.abi == "abi3" for tag in target.tags)


def test_from_probed_interpreter(tmp_path):
    major, minor = sys.version_info[:2]
    info = probe(Path(sys.base_prefix) / "bin" / f"python{major}.{minor}", cache_dir=tmp_path)
    target = from_interpreter(info)
    assert target.python_version == Version(platform.python_version())
    assert target.tags[0] == Tag(f"cp{major}{minor}", f"cp{major}{minor}", info.platform.platform_tags()[0])
    assert target.describe() == f"CPython {target.python_version} on {info.platform.name}"
    assert target.evaluate(Marker(f'python_version == "{major}.{minor}"'))


def test_evaluate_extras(base):
    target = TargetEnvironment(Version("3.11"), dict(base.markers), (), "here")
    marker = Marker('extra == "socks"')
    assert not target.evaluate(marker)
    assert target.evaluate(marker, ["http2", "socks"])
    assert not target.evaluate(marker, ["http2"])
    assert target.evaluate(Marker('python_version >= "3"'), ["http2"])


def test_pip_platform_implementation_and_abi_give_pips_tags():
    # `pip debug --verbose --platform manylinux2014_x86_64 --python-version 39
    # --implementation cp --abi cp39` (pip 23.2) lists these 75 tags, in this order.
    target = for_request(
        None, python_version="3.9", python_platform=None,
        pip_platforms=["manylinux2014_x86_64"], implementation="cp", abis=["cp39"],
    )
    tags = [str(tag) for tag in target.tags]
    assert len(tags) == 75
    assert tags[:4] == [
        "cp39-cp39-manylinux2014_x86_64", "cp39-cp39-manylinux2010_x86_64",
        "cp39-cp39-manylinux1_x86_64", "cp39-abi3-manylinux2014_x86_64",
    ]
    assert tags[-1] == "py30-none-any"
    assert target.evaluate(Marker("sys_platform == 'linux' and python_version == '3.9'"))


def test_pip_implementation_sets_the_implementation_markers():
    target = for_request(None, python_version="3.10", python_platform=None, implementation="pp")
    assert target.markers["implementation_name"] == "pypy"
    assert str(target.tags[0]).startswith("pp310-none-")
