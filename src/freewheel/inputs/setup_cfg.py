"""Read a setuptools project's requirements from ``setup.cfg`` or ``setup.py``.

What setuptools reads from ``setup.cfg`` without running anything is read
here: ``[metadata] name``, ``[options] install_requires`` and
``python_requires``, and ``[options.extras_require]``. Values are split as
setuptools splits them: one requirement per line, or ``;``-separated on a
single line. Requirements read from a file (``file:``), or left to a
``setup.py`` (no ``install_requires`` in ``setup.cfg``), and any
``setup.py`` named itself, are computed by the build backend: the project
stands for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from freewheel.errors import InputError
from freewheel.inputs._shared import (
    defined_names,
    invalid_requirement_reason,
    with_absolute_url,
)
from freewheel.inputs.pyproject import ProjectRequirements, built_requirements
from freewheel.inputs.requirements_txt import RequirementSource, SourcedRequirement
from freewheel.util.fs import display_path

if TYPE_CHECKING:
    import configparser


def read_setup_cfg(
    path: str | Path, *, extras: Sequence[str] = (), all_extras: bool = False
) -> ProjectRequirements:
    """Read ``install_requires`` and the requirements of *extras* from *path*.

    With *all_extras*, every extra in ``[options.extras_require]`` is included.
    """
    import configparser  # only a setup.cfg input needs it

    shown = display_path(path, Path.cwd())
    parser = configparser.ConfigParser(interpolation=None)
    # setuptools keeps option names as written; extras are case-preserving.
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        with open(path, encoding="utf-8") as file:
            parser.read_file(file)
    except FileNotFoundError:
        raise InputError(f"`{shown}` does not exist.") from None
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise InputError(f"`{shown}` cannot be read: {str(exc).splitlines()[0]}") from None

    name = parser.get("metadata", "name", fallback=None)
    normalized = canonicalize_name(name) if name else None
    by_extra = {
        canonicalize_name(extra): (extra, value)
        for extra, value in (
            parser.items("options.extras_require")
            if parser.has_section("options.extras_require")
            else ()
        )
    }
    wanted = list(by_extra) if all_extras else [canonicalize_name(extra) for extra in extras]
    install_requires = parser.get("options", "install_requires", fallback=None)
    has_setup_py = (Path(path).parent / "setup.py").is_file()
    if (
        any(value.strip().startswith("file:") for value in [install_requires or "", *(v for _, v in by_extra.values())])
        or (has_setup_py and (install_requires is None or any(extra not in by_extra for extra in wanted)))
    ):
        source = RequirementSource("setup.cfg", shown, None, normalized)
        own = built_requirements(Path(path).parent, source, extras, all_extras)
        return ProjectRequirements(normalized, (own,), _python_requires(parser, shown))
    for extra in wanted:
        if extra not in by_extra:
            raise InputError(
                f"Extra `{extra}` is not defined in `[options.extras_require]` of `{shown}`; "
                + defined_names("extras", (spelled for spelled, _ in by_extra.values()))
            )

    fields = [("options", "install_requires", install_requires or "")]
    fields += [
        ("options.extras_require", by_extra[extra][0], by_extra[extra][1]) for extra in wanted
    ]
    source = RequirementSource("setup.cfg", shown, None, normalized)
    requirements = tuple(
        SourcedRequirement(req, req.url, False, (), source)
        for section, key, value in fields
        for req in _requirements(value, f"[{section}] {key}", shown, Path(path).parent)
    )
    return ProjectRequirements(normalized, requirements, _python_requires(parser, shown))


def _requirements(value: str, where: str, shown: str, base_dir: Path) -> list[Requirement]:
    # setuptools splits a multi-line value by lines and a one-line value by ";".
    items = value.splitlines() if "\n" in value else value.split(";")
    requirements = []
    for item in items:
        text = item.strip()
        if not text or text.startswith("#"):
            continue
        try:
            requirements.append(with_absolute_url(Requirement(text), base_dir))
        except InvalidRequirement as exc:
            raise InputError(
                f"Couldn't parse requirement in `{shown}` ({where}): `{text}`: "
                + invalid_requirement_reason(exc)
            ) from None
    return requirements


def _python_requires(parser: configparser.ConfigParser, shown: str) -> SpecifierSet | None:
    value = parser.get("options", "python_requires", fallback=None)
    if value is None:
        return None
    try:
        return SpecifierSet(value)
    except InvalidSpecifier:
        raise InputError(
            f"In `{shown}`, `[options] python_requires` is not a valid version specifier: "
            f"`{value}`."
        ) from None


def read_setup_py(path: str | Path, *, extras: Sequence[str] = (), all_extras: bool = False) -> ProjectRequirements:
    """The requirements of the project whose ``setup.py`` is *path*, and of
    its *extras* (all of them with *all_extras*): only running it tells, so
    the project stands for them."""
    shown = display_path(path, Path.cwd())
    source = RequirementSource("setup.py", shown)
    return ProjectRequirements(None, (built_requirements(Path(path).parent, source, extras, all_extras),), None)
