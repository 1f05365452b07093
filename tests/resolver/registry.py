"""A tiny in-memory dependency provider for the PubGrub tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.version import Version

from freewheel.resolver.pubgrub import (
    Ranges,
    Unavailable,
    describe_term,
    from_specifiers,
)


class Root:
    """The root package: what the user asked for."""

    def __repr__(self) -> str:
        return "root"


ROOT = Root()
ROOT_VERSION = Version("0")

Entry = Mapping[str, Ranges] | Unavailable


def parse_requirements(lines: Sequence[str]) -> dict[str, Ranges]:
    """``["a>=1", "b[x]"]`` as a mapping of name to range (repeats intersect).

    A requirement with an extra names a package of its own, ``b[x]``, whose
    versions (in the registry's data) must depend on ``b`` at the same
    version, as the real provider's do.
    """
    parsed: dict[str, Ranges] = {}
    for line in lines:
        requirement = Requirement(line)
        name = requirement.name + (f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else "")
        range_ = from_specifiers(requirement.specifier)
        previous = parsed.get(name)
        parsed[name] = range_ if previous is None else previous & range_
    return parsed


@dataclass
class Registry:
    """Packages and their versions' dependencies, served like the real provider would.

    Prioritizes the root's requirements first in the order given, then other
    packages in the order they were discovered; chooses the newest version;
    lets each version stand for the span up to the next one, as the real
    provider does.
    """

    requires: dict[str, Ranges]
    packages: dict[str, dict[Version, Entry]]
    discovered: dict[object, int] = field(default_factory=dict)
    chosen: list[tuple[str, Version]] = field(default_factory=list)

    @classmethod
    def from_data(cls, requires: Sequence[str], packages: Mapping[str, Mapping[str, object]]) -> Registry:
        table: dict[str, dict[Version, Entry]] = {}
        for name, versions in packages.items():
            table[name] = {}
            for version, entry in versions.items():
                if isinstance(entry, Mapping):
                    table[name][Version(version)] = Unavailable(str(entry["unavailable"]))
                else:
                    assert isinstance(entry, list)
                    table[name][Version(version)] = parse_requirements(entry)
        return cls(parse_requirements(requires), table)

    def prioritize(self, package: object) -> tuple[int, int]:
        names = list(self.requires)
        if package in self.requires:
            return (0, names.index(package))  # type: ignore[arg-type]
        return (1, self.discovered.get(package, len(self.discovered)))

    def choose_version(self, package: object, range: Ranges) -> Version | None:
        versions = self.packages.get(package, {})  # type: ignore[call-overload]
        for version in sorted(versions, reverse=True):
            if version in range:
                return version
        return None

    def version_set(self, package: object, version: Version) -> Ranges:
        if package is ROOT:
            return Ranges.singleton(version)
        above = sorted(v for v in self.packages[package] if v > version)  # type: ignore[index]
        return Ranges.between(version, above[0]) if above else Ranges.singleton(version)

    def same_version_as(self, package: object) -> list[str]:
        if package is ROOT:
            return []
        base = str(package).partition("[")[0]
        return [name for name in self.packages if name != package and name.partition("[")[0] == base]

    def describe(self, package: object, range_: Ranges) -> str:
        """A term as the product writes it: over the versions that exist."""
        versions = sorted(self.packages.get(package, {}))  # type: ignore[call-overload]
        return describe_term(package, range_.simplify(versions) if versions else range_)

    def get_dependencies(self, package: object, version: Version) -> Entry:
        if package is ROOT:
            dependencies: Entry = self.requires
        else:
            self.chosen.append((package, version))  # type: ignore[arg-type]
            dependencies = self.packages[package][version]  # type: ignore[index]
        if not isinstance(dependencies, Unavailable):
            for dependency in dependencies:
                self.discovered.setdefault(dependency, len(self.discovered))
        return dependencies
