"""Print pip constraints pinning every dependency to the lowest version
``pyproject.toml`` allows.

Covers the build requirements, the dependencies and every extra, so that
the lower bounds written in ``pyproject.toml`` are the ones CI installs and
tests. A dependency without a lower bound (``>=``, ``~=`` or ``==``) is an
error: its oldest release is unknowable, and so is whether it works.

Standard library only: it runs before any environment exists.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

_REQUIREMENT = re.compile(
    r"\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?"
    r"\s*(?P<specifiers>[^;]*?)\s*(?:;(?P<marker>.*))?$"
)
_LOWER = re.compile(r"\s*(?:>=|~=|===?)\s*(?P<version>[^\s,*]+)\s*$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lowest(requirement: str) -> tuple[str, str, str | None]:
    """(canonical name, lowest allowed version, marker) of *requirement*."""
    match = _REQUIREMENT.fullmatch(requirement)
    if match is None:
        raise SystemExit(f"error: cannot read the requirement {requirement!r}")
    bounds = [m.group("version") for s in match.group("specifiers").split(",") if (m := _LOWER.fullmatch(s))]
    if not bounds:
        raise SystemExit(f"error: {requirement!r} has no lower bound (>=, ~= or ==); give it one")
    marker = match.group("marker")
    return canonical(match.group("name")), max(bounds, key=_key), marker.strip() if marker else None


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def requirements(pyproject: dict) -> list[str]:
    project = pyproject.get("project", {})
    found = list(pyproject.get("build-system", {}).get("requires", []))
    found += project.get("dependencies", [])
    for extra in project.get("optional-dependencies", {}).values():
        found += extra
    return found


def constraints(pyproject: dict) -> list[str]:
    """One ``name==version`` line per dependency; the highest lower bound
    wins where several requirements name the same project."""
    pins: dict[tuple[str, str | None], str] = {}
    for requirement in requirements(pyproject):
        name, version, marker = lowest(requirement)
        key = (name, marker)
        if key not in pins or _key(version) > _key(pins[key]):
            pins[key] = version
    return [
        f"{name}=={version}" + (f"; {marker}" if marker else "")
        for (name, marker), version in sorted(pins.items(), key=lambda item: (item[0][0], item[0][1] or ""))
    ]


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "pyproject.toml"
    print("\n".join(constraints(tomllib.loads(path.read_text("utf-8")))))


if __name__ == "__main__":
    main()
