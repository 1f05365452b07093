"""The install plan: what pip install and pip sync change."""

from __future__ import annotations

from packaging.utils import canonicalize_name
from packaging.version import Version

from freewheel.install.plan import plan
from freewheel.resolver.result import PinnedPackage


def pin(name: str, version: str) -> PinnedPackage:
    return PinnedPackage(canonicalize_name(name), Version(version), frozenset(), (), None, ())


INSTALLED = {"a": Version("1.0"), "b": Version("2.0"), "pip": Version("24.0"), "stray": Version("0.1")}


def test_install_is_additive_and_replaces_changed_versions():
    result = plan([pin("a", "1.0"), pin("b", "3.0"), pin("c", "1.0")], INSTALLED)
    assert [p.name for p in result.install] == ["b", "c"]
    assert result.remove == ("b",)
    assert result.unchanged == ("a",)


def test_reinstall_all_or_named():
    assert [p.name for p in plan([pin("a", "1.0")], INSTALLED, reinstall=True).install] == ["a"]
    assert plan([pin("a", "1.0")], INSTALLED, reinstall={"b"}).install == ()


def test_sync_removes_what_is_not_pinned_but_keeps_the_tools():
    result = plan([pin("a", "1.0")], INSTALLED, sync=True, keep={"pip"})
    assert result.remove == ("b", "stray")
    assert not plan([pin("a", "1.0")], {"a": Version("1.0")}, sync=True).remove
    assert plan([pin("a", "1.0")], {"a": Version("1.0")}).empty
