"""The install plan: what pip install and pip sync change."""

from __future__ import annotations

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from freewheel.install.plan import audit, plan
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


class Dist:
    def __init__(self, version: str, *requires: str) -> None:
        self.version = Version(version)
        self.requires = tuple(Requirement(r) for r in requires)


LINUX = {**default_environment(), "sys_platform": "linux"}
ENVIRONMENT = {
    "app": Dist("1.0", "lib>=2", "gui; sys_platform == 'win32'", "fast; extra == 'speed'"),
    "lib": Dist("2.1", "base"),
    "base": Dist("1.0"),
    "fast": Dist("0.5"),
}


def audited(*requirements: str, constraints=(), installed=ENVIRONMENT, follow=True):
    return audit([Requirement(r) for r in requirements], installed, LINUX,
                 constraints=[Requirement(c) for c in constraints], follow=follow)


def test_audit_follows_dependencies_markers_and_extras():
    assert audited("app") == ["app", "base", "lib"]
    assert audited("app[speed]") == ["app", "base", "fast", "lib"]
    assert audited("app>=2") is None
    assert audited("app", installed={k: v for k, v in ENVIRONMENT.items() if k != "base"}) is None
    assert audited("app", follow=False) == ["app"]
    assert audited("other; sys_platform == 'win32'") == []


def test_audit_checks_constraints_and_refuses_urls():
    assert audited("app", constraints=["lib<2.1"]) is None
    assert audited("app", constraints=["lib<3", "unrelated<1"]) == ["app", "base", "lib"]
    assert audited("app @ https://example.invalid/app-1.0-py3-none-any.whl") is None
