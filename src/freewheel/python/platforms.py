"""Platforms a resolution can target, and the wheel tags each one accepts.

A :class:`Platform` is what ``--python-platform`` names (uv's target triples,
such as ``x86_64-unknown-linux-gnu`` or ``aarch64-apple-darwin``) or what an
interpreter probe finds on the machine it runs on. It carries the PEP 508
markers that describe the operating system and CPU, and knows its platform
tags (``manylinux_2_28_x86_64``, ``macosx_13_0_arm64``, ``win_amd64``...).

:func:`supported_tags` combines a platform's tags with a Python version and
ABI into the full, ordered list of wheel tags an environment accepts.

Markers and tag preferences follow uv 0.13 for each name: for example
``platform_machine`` is ``AMD64`` on 64-bit Windows, as CPython reports
there, and the newest manylinux/musllinux tag is preferred, ``linux_<arch>``
least.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Literal

import msgspec
from packaging.tags import (
    Tag,
    compatible_tags,
    cpython_tags,
    generic_tags,
    mac_platforms,
)

from freewheel.errors import UsageError

OperatingSystem = Literal["linux", "macos", "windows", "other"]

# uv's default macOS deployment target when MACOSX_DEPLOYMENT_TARGET is unset:
# the oldest macOS release Apple still supports.
DEFAULT_MACOS_VERSION = (13, 0)

# The glibc a bare ``<arch>-unknown-linux-gnu`` triple stands for, per uv.
_DEFAULT_GLIBC = {"x86_64": (2, 28), "aarch64": (2, 28), "riscv64": (2, 39)}

# Oldest manylinux glibc minor that exists for each architecture (PEP 600
# policies); architectures missing here have no manylinux tags at all.
_OLDEST_MANYLINUX_MINOR = {
    "x86_64": 5,
    "i686": 5,
    "aarch64": 17,
    "armv7l": 17,
    "ppc64": 17,
    "ppc64le": 17,
    "s390x": 17,
    "riscv64": 31,
    "loongarch64": 36,
}

# PEP 600 legacy aliases, listed right after the manylinux_2_X tag they mean.
_LEGACY_MANYLINUX = {5: "manylinux1", 12: "manylinux2010", 17: "manylinux2014"}

_LINUX_MARKERS = {"os_name": "posix", "sys_platform": "linux", "platform_system": "Linux"}
_MACOS_MARKERS = {"os_name": "posix", "sys_platform": "darwin", "platform_system": "Darwin"}
_WINDOWS_MARKERS = {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows"}

# How CPython's platform.machine() spells each architecture, per OS.
_WINDOWS_MACHINE = {"x86_64": "AMD64", "aarch64": "ARM64", "i686": "x86"}
_MACOS_MACHINE = {"aarch64": "arm64", "x86_64": "x86_64", "i686": "i386"}

# A named target cannot know its kernel version, so uv blanks these markers.
_BLANK_KERNEL = {"platform_release": "", "platform_version": ""}

# Wheel platform tags for Windows, which carry no OS version.
_WINDOWS_TAG = {"x86_64": "win_amd64", "aarch64": "win_arm64", "i686": "win32"}

_UNSUPPORTED_PREFIXES = ("wasm32-pyodide", "aarch64-linux-android", "x86_64-linux-android")
_UNSUPPORTED_SUFFIXES = ("-apple-ios", "-apple-ios-simulator")


class Platform(msgspec.Struct, frozen=True):
    """An operating system and CPU that wheels are selected for.

    ``arch`` is the canonical CPU name (``x86_64``, ``aarch64``, ``i686``,
    ``riscv64``...); each OS spells it its own way in tags and markers.
    ``markers`` holds the platform part of a PEP 508 environment:
    ``os_name``, ``sys_platform``, ``platform_system``, ``platform_machine``,
    and for named targets ``platform_release``/``platform_version`` set to
    ``""`` as uv does, since a kernel version cannot be guessed. Exactly one
    of ``glibc``, ``musl`` and ``macos`` is set for Linux and macOS: the
    newest libc or OS version the target provides, as ``(major, minor)``.
    ``sysconfig_platform`` is only used for ``os="other"``: the tag
    ``sysconfig.get_platform()`` gives there (e.g. ``freebsd_14_0_amd64``).
    """

    name: str
    os: OperatingSystem
    arch: str
    markers: Mapping[str, str]
    glibc: tuple[int, int] | None = None
    musl: tuple[int, int] | None = None
    macos: tuple[int, int] | None = None
    sysconfig_platform: str | None = None

    def platform_tags(self) -> list[str]:
        """The platform tags this platform accepts, most preferred first."""
        if self.os == "windows":
            return [_WINDOWS_TAG[self.arch]]
        if self.os == "macos":
            assert self.macos is not None
            return list(mac_platforms(self.macos, _MACOS_MACHINE.get(self.arch, self.arch)))
        if self.os == "linux":
            return list(_linux_tags(self.arch, glibc=self.glibc, musl=self.musl))
        assert self.sysconfig_platform is not None
        return [self.sysconfig_platform]


def _linux_tags(
    arch: str, *, glibc: tuple[int, int] | None, musl: tuple[int, int] | None
) -> Iterator[str]:
    # A 32-bit ARM userland on a 64-bit CPU (armv8l) runs armv7l wheels too.
    archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
    for each in archs:
        oldest = _OLDEST_MANYLINUX_MINOR.get(each)
        if glibc is not None and oldest is not None and glibc[0] == 2:
            for minor in range(glibc[1], oldest - 1, -1):
                yield f"manylinux_2_{minor}_{each}"
                if minor in _LEGACY_MANYLINUX:
                    yield f"{_LEGACY_MANYLINUX[minor]}_{each}"
        if musl is not None:
            for minor in range(musl[1], -1, -1):
                yield f"musllinux_{musl[0]}_{minor}_{each}"
    for each in archs:
        yield f"linux_{each}"


def _linux(
    name: str,
    arch: str,
    *,
    glibc: tuple[int, int] | None = None,
    musl: tuple[int, int] | None = None,
) -> Platform:
    markers = {**_LINUX_MARKERS, "platform_machine": arch, **_BLANK_KERNEL}
    return Platform(name, "linux", arch, markers, glibc=glibc, musl=musl)


def _named_platforms(macos: tuple[int, int]) -> dict[str, Platform]:
    """Every ``--python-platform`` name, mapped to what it stands for."""
    table: dict[str, Platform] = {}
    for arch in ("x86_64", "aarch64", "i686"):
        name = f"{arch}-pc-windows-msvc"
        markers = {**_WINDOWS_MARKERS, "platform_machine": _WINDOWS_MACHINE[arch], **_BLANK_KERNEL}
        table[name] = Platform(name, "windows", arch, markers)
    for arch in ("aarch64", "x86_64"):
        name = f"{arch}-apple-darwin"
        markers = {**_MACOS_MARKERS, "platform_machine": _MACOS_MACHINE[arch], **_BLANK_KERNEL}
        table[name] = Platform(name, "macos", arch, markers, macos=macos)
    for arch in ("x86_64", "aarch64"):
        gnu = f"{arch}-unknown-linux-gnu"
        table[gnu] = _linux(gnu, arch, glibc=_DEFAULT_GLIBC[arch])
        musl = f"{arch}-unknown-linux-musl"
        table[musl] = _linux(musl, arch, musl=(1, 2))
        table[f"{arch}-manylinux2014"] = _linux(f"{arch}-manylinux2014", arch, glibc=(2, 17))
        for minor in (17, *range(28, 41)):
            name = f"{arch}-manylinux_2_{minor}"
            table[name] = _linux(name, arch, glibc=(2, minor))
    table["riscv64-unknown-linux"] = _linux(
        "riscv64-unknown-linux", "riscv64", glibc=_DEFAULT_GLIBC["riscv64"]
    )
    # The short aliases stand for a triple, under their own name.
    aliases = {
        alias: msgspec.structs.replace(table[triple], name=alias)
        for alias, triple in (
            ("windows", "x86_64-pc-windows-msvc"),
            ("linux", "x86_64-unknown-linux-gnu"),
            ("macos", "aarch64-apple-darwin"),
        )
    }
    return aliases | table


PLATFORM_NAMES: tuple[str, ...] = tuple(_named_platforms(DEFAULT_MACOS_VERSION))
"""Every name :func:`parse_platform` accepts, the short aliases first."""


def parse_platform(name: str, *, macos_version: tuple[int, int] | None = None) -> Platform:
    """Return the platform a ``--python-platform`` name stands for.

    Names are uv's: ``windows``, ``linux`` and ``macos`` are aliases for
    ``x86_64-pc-windows-msvc``, ``x86_64-unknown-linux-gnu`` (glibc 2.28,
    i.e. ``x86_64-manylinux_2_28``) and ``aarch64-apple-darwin``. The
    ``*-unknown-linux-musl`` targets stand for musl 1.2. macOS targets accept
    wheels up to ``macos_version``, which defaults to the
    ``MACOSX_DEPLOYMENT_TARGET`` environment variable, else 13.0.

    :raises UsageError: for an unknown name, a malformed
        ``MACOSX_DEPLOYMENT_TARGET``, or a target (Android, iOS, Pyodide)
        that is not supported yet.
    """
    key = name.strip().lower()
    if key.startswith(_UNSUPPORTED_PREFIXES) or key.endswith(_UNSUPPORTED_SUFFIXES):
        raise UsageError(
            f"The target platform {name!r} is not supported yet; Android, iOS and "
            "Pyodide targets cannot be resolved for."
        )
    table = _named_platforms(macos_version or _macos_deployment_target())
    try:
        return table[key]
    except KeyError:
        raise UsageError(
            f"Unknown target platform {name!r}. Valid names are: {', '.join(table)}.",
            hint="names follow uv's --python-platform, e.g. 'linux' or 'aarch64-apple-darwin'",
        ) from None


def _macos_deployment_target() -> tuple[int, int]:
    value = os.environ.get("MACOSX_DEPLOYMENT_TARGET")
    if not value:
        return DEFAULT_MACOS_VERSION
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?", value.strip())
    if match is None:
        raise UsageError(
            f"MACOSX_DEPLOYMENT_TARGET={value!r} is not a macOS version; "
            "expected a version such as 14.0."
        )
    return int(match[1]), int(match[2] or 0)


def host_platform(
    sysconfig_platform: str,
    *,
    markers: Mapping[str, str],
    is_32bit: bool,
    glibc: tuple[int, int] | None = None,
    musl: tuple[int, int] | None = None,
    macos: tuple[int, int] | None = None,
) -> Platform:
    """Describe the platform an interpreter runs on, from facts it reported.

    ``sysconfig_platform`` is the interpreter's ``sysconfig.get_platform()``
    (``linux-x86_64``, ``macosx-11.0-arm64``, ``win-amd64``...), ``markers``
    its PEP 508 environment, and ``is_32bit`` whether its pointers are 32
    bits wide (a 32-bit Python on a 64-bit kernel must use 32-bit wheels).
    The libc or macOS versions are those the probe found. The platform's
    name reads like a ``--python-platform`` name, e.g.
    ``x86_64-manylinux_2_36``.
    """
    kept = {key: markers[key] for key in (*_LINUX_MARKERS, "platform_machine") if key in markers}
    normalized = re.sub(r"[^A-Za-z0-9]+", "_", sysconfig_platform)
    if sysconfig_platform.startswith("win"):
        arch = {"win32": "i686", "win_arm64": "aarch64"}.get(normalized, "x86_64")
        return Platform(f"{arch}-pc-windows-msvc", "windows", arch, kept)
    if sysconfig_platform.startswith("macosx") and macos is not None:
        # sysconfig names the build (often "universal2"), not the CPU it runs on.
        machine = markers.get("platform_machine", "")
        arch = "i686" if is_32bit else _canonical_arch(machine)
        return Platform(f"{arch}-apple-darwin", "macos", arch, kept, macos=macos)
    if sysconfig_platform.startswith("linux"):
        arch = sysconfig_platform.split("-", 1)[1].replace("-", "_").replace(".", "_")
        if is_32bit:
            arch = {"x86_64": "i686", "aarch64": "armv8l"}.get(arch, arch)
        if glibc is not None:
            name = f"{arch}-manylinux_{glibc[0]}_{glibc[1]}"
        elif musl is not None:
            name = f"{arch}-unknown-linux-musl"
        else:
            name = f"{arch}-unknown-linux"
        return Platform(name, "linux", arch, kept, glibc=glibc, musl=musl)
    machine = markers.get("platform_machine", "")
    return Platform(normalized, "other", machine, kept, sysconfig_platform=normalized)


def _canonical_arch(machine: str) -> str:
    return {"arm64": "aarch64", "amd64": "x86_64"}.get(machine.lower(), machine)


def supported_tags(
    python_version: Sequence[int],
    platforms: Iterable[str],
    *,
    interpreter: str,
    abis: Sequence[str],
) -> list[Tag]:
    """All wheel tags an interpreter accepts, most preferred first.

    ``interpreter`` is the interpreter tag (``cp311``, ``pp310``); ``abis``
    its ABI tags, most specific first (``["cp311"]``, ``["cp313t"]``,
    ``["cp311d", "cp311"]`` for a debug build, ``["pypy310_pp73"]``). The
    order is packaging's and uv's: the interpreter's own ABI on every
    platform, then ``abi3`` down to ``cp32`` (CPython only), then
    ``py3X``/``py3`` platform wheels, then ``<interpreter>-none-any`` and
    pure-Python wheels.
    """
    platforms = list(platforms)
    version = tuple(python_version[:2])
    if interpreter.startswith("cp"):
        specific = cpython_tags(version, abis, platforms)
    else:
        specific = generic_tags(interpreter, abis, platforms)
    return [*specific, *compatible_tags(version, interpreter, platforms)]


_PIP_LEGACY_MANYLINUX = {
    "manylinux2014": ("manylinux2014", "manylinux2010", "manylinux1"),
    "manylinux2010": ("manylinux2010", "manylinux1"),
}


def pip_platform(tags: Sequence[str]) -> tuple[Platform, list[str]]:
    """The platform pip's ``--platform`` values (wheel platform tags such as
    ``manylinux2014_x86_64``, ``win_amd64``, ``macosx_11_0_arm64``) stand
    for, and the platform tags it accepts, most preferred first.

    As pip: the tags given are accepted, and only those, except that a
    ``macosx`` tag also accepts older macOS releases and ``manylinux2014``
    (``manylinux2010``) the legacy tags before it; ``manylinux_2_28_x86_64``
    does not accept ``manylinux_2_17``. Markers come from the first tag.

    :raises UsageError: for a value that is not a platform tag.
    """
    accepted: list[str] = []
    for tag in tags:
        if not re.fullmatch(r"[a-z0-9_.]+", tag):
            raise UsageError(
                f"Invalid --platform {tag!r}: expected a wheel platform tag such as "
                "manylinux_2_28_x86_64, win_amd64 or macosx_11_0_arm64."
            )
        prefix, _, arch = tag.partition("_")
        macos = re.fullmatch(r"macosx_(\d+)_(\d+)_(\w+)", tag)
        if macos:
            accepted += mac_platforms((int(macos[1]), int(macos[2])), macos[3])
        elif prefix in _PIP_LEGACY_MANYLINUX and arch in ("x86_64", "i686"):
            accepted += [f"{legacy}_{arch}" for legacy in _PIP_LEGACY_MANYLINUX[prefix]]
        else:
            accepted.append(tag)
    return _tag_platform(tags[0]), list(dict.fromkeys(accepted))


def _tag_platform(tag: str) -> Platform:
    """The platform whose markers a wheel platform tag implies."""
    windows = {tag: arch for arch, tag in _WINDOWS_TAG.items()}
    if tag in windows:
        arch = windows[tag]
        markers = {**_WINDOWS_MARKERS, "platform_machine": _WINDOWS_MACHINE[arch], **_BLANK_KERNEL}
        return Platform(tag, "windows", arch, markers)
    macos = re.fullmatch(r"macosx_(\d+)_(\d+)_(\w+)", tag)
    if macos:
        arch = _canonical_arch(macos[3])
        markers = {**_MACOS_MARKERS, "platform_machine": macos[3], **_BLANK_KERNEL}
        return Platform(tag, "macos", arch, markers, macos=(int(macos[1]), int(macos[2])))
    linux = re.fullmatch(r"(?:many|musl)?linux(?:\d+|_\d+_\d+)?_(\w+)", tag)
    if linux:
        return _linux(tag, linux[1])
    return Platform(tag, "other", "", dict(_BLANK_KERNEL), sysconfig_platform=tag)


# macOS platform tags that stand for several architectures in one wheel.
_MACOS_MULTI_ARCH = {"universal2": ("arm64", "x86_64"), "intel": ("x86_64", "i386")}


def tag_machines(tag: str) -> tuple[str, tuple[str, ...]] | None:
    """The ``sys_platform`` a wheel platform tag installs on, with the
    ``platform_machine`` values it accepts there (empty: any), or ``None``
    for ``any`` and tags of other systems.

    ``macosx_11_0_universal2`` gives ``("darwin", ("arm64", "x86_64"))``;
    ``win_amd64`` gives ``("win32", ("AMD64",))``.
    """
    if tag == "any":
        return None
    platform = _tag_platform(tag)
    if platform.os == "other":
        return None
    machine = platform.markers["platform_machine"]
    if platform.os == "macos":
        arch = tag.split("_", 3)[3]
        if arch in _MACOS_MULTI_ARCH:
            return "darwin", _MACOS_MULTI_ARCH[arch]
        if arch.startswith("fat") or arch == "universal":
            return "darwin", ()
    return platform.markers["sys_platform"], (machine,)
