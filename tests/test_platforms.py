"""``--python-platform`` names, their markers and their wheel tags."""

from __future__ import annotations

import pytest
from packaging.tags import Tag

from freewheel.errors import UsageError
from freewheel.python.platforms import (
    PLATFORM_NAMES,
    host_platform,
    parse_platform,
    pip_platform,
    supported_tags,
)


@pytest.mark.parametrize(
    ("name", "sys_platform", "platform_system", "platform_machine", "os_name"),
    [
        ("linux", "linux", "Linux", "x86_64", "posix"),
        ("aarch64-unknown-linux-gnu", "linux", "Linux", "aarch64", "posix"),
        ("x86_64-unknown-linux-musl", "linux", "Linux", "x86_64", "posix"),
        ("riscv64-unknown-linux", "linux", "Linux", "riscv64", "posix"),
        ("macos", "darwin", "Darwin", "arm64", "posix"),
        ("x86_64-apple-darwin", "darwin", "Darwin", "x86_64", "posix"),
        ("windows", "win32", "Windows", "AMD64", "nt"),
        ("aarch64-pc-windows-msvc", "win32", "Windows", "ARM64", "nt"),
        ("i686-pc-windows-msvc", "win32", "Windows", "x86", "nt"),
    ],
)
def test_platform_markers(name, sys_platform, platform_system, platform_machine, os_name):
    markers = parse_platform(name).markers
    assert markers["sys_platform"] == sys_platform
    assert markers["platform_system"] == platform_system
    assert markers["platform_machine"] == platform_machine
    assert markers["os_name"] == os_name
    # A named target has no kernel to report; stale host values must not leak.
    assert markers["platform_release"] == markers["platform_version"] == ""


def test_every_listed_name_parses_to_a_platform_with_tags():
    for name in PLATFORM_NAMES:
        platform = parse_platform(name)
        assert platform.platform_tags(), name
        assert platform.name == name


def test_manylinux_2_28_accepts_older_manylinux_and_legacy_aliases():
    tags = parse_platform("x86_64-manylinux_2_28").platform_tags()
    assert tags[0] == "manylinux_2_28_x86_64"
    assert "manylinux_2_29_x86_64" not in tags
    # Legacy aliases rank right after the manylinux_2_X tag they stand for.
    for modern, legacy in [
        ("manylinux_2_17_x86_64", "manylinux2014_x86_64"),
        ("manylinux_2_12_x86_64", "manylinux2010_x86_64"),
        ("manylinux_2_5_x86_64", "manylinux1_x86_64"),
    ]:
        assert tags[tags.index(modern) + 1] == legacy
    assert tags[-1] == "linux_x86_64"


def test_linux_aliases_mean_manylinux_2_28():
    expected = parse_platform("x86_64-manylinux_2_28").platform_tags()
    assert parse_platform("linux").platform_tags() == expected
    assert parse_platform("x86_64-unknown-linux-gnu").platform_tags() == expected
    aarch64 = parse_platform("aarch64-unknown-linux-gnu").platform_tags()
    assert aarch64[0] == "manylinux_2_28_aarch64"


def test_manylinux2014_means_glibc_2_17_and_aarch64_has_no_older_tags():
    assert parse_platform("x86_64-manylinux2014").platform_tags()[:2] == [
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
    ]
    assert parse_platform("aarch64-manylinux2014").platform_tags() == [
        "manylinux_2_17_aarch64",
        "manylinux2014_aarch64",
        "linux_aarch64",
    ]


def test_musl_targets_accept_musllinux_not_manylinux():
    assert parse_platform("aarch64-unknown-linux-musl").platform_tags() == [
        "musllinux_1_2_aarch64",
        "musllinux_1_1_aarch64",
        "musllinux_1_0_aarch64",
        "linux_aarch64",
    ]


def test_macos_arm64_accepts_universal2_down_to_old_releases(monkeypatch):
    monkeypatch.delenv("MACOSX_DEPLOYMENT_TARGET", raising=False)
    tags = parse_platform("macos").platform_tags()
    assert tags[:2] == ["macosx_13_0_arm64", "macosx_13_0_universal2"]
    assert "macosx_11_0_arm64" in tags
    assert "macosx_10_9_universal2" in tags
    assert "macosx_14_0_arm64" not in tags
    assert not any(tag.endswith("_x86_64") for tag in tags)


def test_macos_version_follows_deployment_target(monkeypatch):
    monkeypatch.setenv("MACOSX_DEPLOYMENT_TARGET", "14.0")
    assert parse_platform("aarch64-apple-darwin").platform_tags()[0] == "macosx_14_0_arm64"
    assert parse_platform("macos", macos_version=(15, 0)).platform_tags()[0] == "macosx_15_0_arm64"
    monkeypatch.setenv("MACOSX_DEPLOYMENT_TARGET", "sonoma")
    with pytest.raises(UsageError, match="MACOSX_DEPLOYMENT_TARGET"):
        parse_platform("macos")


def test_windows_tags():
    assert parse_platform("windows").platform_tags() == ["win_amd64"]
    assert parse_platform("aarch64-pc-windows-msvc").platform_tags() == ["win_arm64"]
    assert parse_platform("i686-pc-windows-msvc").platform_tags() == ["win32"]


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(UsageError) as excinfo:
        parse_platform("solaris")
    message = excinfo.value.message
    assert "'solaris'" in message
    assert "x86_64-unknown-linux-gnu" in message and "aarch64-manylinux_2_40" in message


@pytest.mark.parametrize("name", ["aarch64-linux-android", "wasm32-pyodide2024", "arm64-apple-ios"])
def test_mobile_and_wasm_targets_are_refused_clearly(name):
    with pytest.raises(UsageError, match="not supported yet"):
        parse_platform(name)


def test_host_platform_from_probe_facts():
    linux = host_platform(
        "linux-x86_64", markers={"platform_machine": "x86_64"}, is_32bit=False, glibc=(2, 31)
    )
    assert linux.name == "x86_64-manylinux_2_31"
    assert linux.platform_tags()[0] == "manylinux_2_31_x86_64"
    # A 32-bit interpreter on a 64-bit kernel needs 32-bit wheels.
    i686 = host_platform(
        "linux-x86_64", markers={"platform_machine": "x86_64"}, is_32bit=True, glibc=(2, 31)
    )
    assert i686.platform_tags()[0] == "manylinux_2_31_i686"
    # python.org macOS builds report "universal2" to sysconfig; the CPU decides.
    mac = host_platform(
        "macosx-10.9-universal2",
        markers={"platform_machine": "arm64"},
        is_32bit=False,
        macos=(14, 2),
    )
    assert mac.platform_tags()[:2] == ["macosx_14_0_arm64", "macosx_14_0_universal2"]
    assert host_platform("win-amd64", markers={}, is_32bit=False).platform_tags() == ["win_amd64"]
    assert host_platform("win32", markers={}, is_32bit=True).platform_tags() == ["win32"]


def test_supported_tags_order_matches_uv():
    tags = supported_tags((3, 2), ["win_amd64"], interpreter="cp32", abis=["cp32"])
    assert [str(tag) for tag in tags] == [
        "cp32-cp32-win_amd64",
        "cp32-abi3-win_amd64",
        "cp32-none-win_amd64",
        "py32-none-win_amd64",
        "py3-none-win_amd64",
        "py31-none-win_amd64",
        "py30-none-win_amd64",
        "cp32-none-any",
        "py32-none-any",
        "py3-none-any",
        "py31-none-any",
        "py30-none-any",
    ]


def test_free_threaded_cpython_gets_no_abi3():
    tags = supported_tags((3, 13), ["win_amd64"], interpreter="cp313", abis=["cp313t"])
    assert tags[0] == Tag("cp313", "cp313t", "win_amd64")
    assert not any(tag.abi == "abi3" for tag in tags)


@pytest.mark.parametrize(
    ("tags", "accepted", "markers"),
    [
        # As `pip debug --platform TAG` lists them (pip 23.2).
        (["manylinux2014_x86_64"], ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"], ("linux", "x86_64")),
        (["manylinux_2_28_x86_64"], ["manylinux_2_28_x86_64"], ("linux", "x86_64")),
        (["win_amd64"], ["win_amd64"], ("win32", "AMD64")),
        (["macosx_11_0_arm64"], ["macosx_11_0_arm64", "macosx_11_0_universal2", "macosx_10_16_universal2"], ("darwin", "arm64")),
        (["musllinux_1_2_aarch64", "linux_aarch64"], ["musllinux_1_2_aarch64", "linux_aarch64"], ("linux", "aarch64")),
    ],
)
def test_pip_platform_tags_are_pips(tags, accepted, markers):
    platform, platform_tags = pip_platform(tags)
    assert platform_tags[: len(accepted)] == accepted
    assert (platform.markers["sys_platform"], platform.markers["platform_machine"]) == markers


def test_pip_platform_refuses_what_is_no_tag():
    with pytest.raises(UsageError, match="Invalid --platform"):
        pip_platform(["x86_64-manylinux_2_28"])
