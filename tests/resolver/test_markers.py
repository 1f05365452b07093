"""The marker algebra, checked against packaging's evaluation.

Markers are built from a pool of realistic atoms; environments are drawn
from values around every literal those atoms use. Brute force runs over a
set of environments that covers every cell of the atoms' partition: one
environment for each combination of answers that packaging gives to the
atoms, so it does not depend on the code under test.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable

import packaging
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.version import InvalidVersion, Version

from freewheel.resolver.markers import FALSE, TRUE, MarkerError, MarkerTree

# -- atoms and markers ---------------------------------------------------------------

PYTHON = [
    "python_version >= '3.8'",
    "python_version < '3.10'",
    "python_version == '3.9'",
    "python_version != '3.8'",
    "python_version > '3.11'",
    "python_version <= '3.8'",
    "python_version ~= '3.9'",
    "python_version >= '3'",
    "python_version < '3.8.1'",
    "python_version in '3.8 3.10'",
    "python_version not in '3.9'",
    "python_full_version >= '3.8.1'",
    "python_full_version < '3.8.10'",
    "python_full_version == '3.9.*'",
    "python_full_version != '3.10.2'",
    "python_full_version >= '3.10'",
    "python_full_version < '3.9'",
    "python_full_version ~= '3.8.1'",
    "python_full_version <= '3.13.0rc1'",
    "python_full_version >= '3.13.0rc1'",
    "python_full_version == '3.12'",
    "implementation_version >= '7.3'",
    "implementation_version < '3.10'",
]
PLATFORM = [
    "sys_platform == 'linux'",
    "sys_platform == 'win32'",
    "sys_platform != 'darwin'",
    "sys_platform in 'linux darwin'",
    "sys_platform not in 'win32'",
    "'lin' in sys_platform",
    "'linux' in sys_platform",
    "'win' not in sys_platform",
    "platform_system == 'Linux'",
    "platform_system != 'Windows'",
    "os_name == 'nt'",
    "platform_machine == 'x86_64'",
    "platform_machine in 'x86_64 AMD64'",
    "platform_machine != 'aarch64'",
    "platform_python_implementation == 'CPython'",
    "implementation_name == 'pypy'",
    "sys_platform < 'z'",
    "platform_system <= 'Linux'",
]
RELEASE = [
    "platform_release >= '5.10'",
    "platform_release == '5.15.0-91-generic'",
    "platform_release != '6.8.0-azure'",
]
EXTRAS = [
    "extra == 'cpu'",
    "extra != 'cu124'",
    "extra == 'Dev_Tools'",
    "'cpu' in extras",
    "'cu124' not in extras",
    "'dev' in dependency_groups",
    "'test' not in dependency_groups",
]
# Atoms the partitions cannot express: evaluated by packaging itself.
OPAQUE = [
    "'3.8' <= python_version",
    "'3.9.0' == python_full_version",
    "python_full_version in '3.8.10 3.9.1'",
    "python_full_version === '3.9.1'",
    "python_full_version == '3.8.0+local'",
    "extra == ''",
]
# A post-release of the point "> 3.9.0" cuts at is written back approximately.
APPROXIMATE = ["python_full_version > '3.9.0'"]
ALL = PYTHON + PLATFORM + RELEASE + EXTRAS + OPAQUE + APPROXIMATE
# Few variables, so that equivalent pairs come up often.
SMALL = [
    "python_version >= '3.9'",
    "python_version < '3.10'",
    "python_full_version >= '3.9'",
    "python_full_version < '3.9.2'",
    "python_version == '3.9'",
    "sys_platform == 'linux'",
    "sys_platform != 'win32'",
    "sys_platform in 'linux'",
    "'lin' in sys_platform",
    "'linux' in sys_platform",
    "extra == 'cpu'",
    "'dev' in dependency_groups",
]


@functools.cache
def markers(atoms: tuple[str, ...], max_leaves: int = 4) -> st.SearchStrategy[str]:
    """Markers from ``atoms`` with and/or, with and without parentheses."""

    def combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.builds(
            lambda a, op, b, parens: f"({a}) {op} ({b})" if parens else f"{a} {op} {b}",
            children,
            st.sampled_from(["and", "or"]),
            children,
            st.booleans(),
        )

    return st.recursive(st.sampled_from(atoms), combine, max_leaves=max_leaves)


def atoms_of(marker: str) -> list[str]:
    """The atoms of the pools that occur in ``marker``."""
    return [atom for atom in dict.fromkeys(ALL + SMALL) if atom in marker]


# -- environments -------------------------------------------------------------------

VARIABLE = re.compile(
    r"\b(python_full_version|python_version|implementation_version|platform_release|sys_platform|platform_system"
    r"|os_name|platform_machine|platform_python_implementation|implementation_name|extras|extra|dependency_groups)\b"
)
DEFAULTS = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.1",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_release": "6.1.0",
    "platform_system": "Linux",
    "platform_version": "#1 SMP",
    "platform_python_implementation": "CPython",
    "python_full_version": "3.12.1",
    "sys_platform": "linux",
}
QUOTED = re.compile(r"'([^']*)'")


def variable_of(atom: str) -> str:
    match = VARIABLE.search(atom)
    assert match is not None, atom
    return "python_full_version" if match[1] == "python_version" else match[1]


def neighbours(text: str) -> set[str]:
    """Versions around the literal ``text``: its pre-, post-, dev and local forms and its neighbours."""
    try:
        version = Version(text.removesuffix(".*"))
    except InvalidVersion:
        return set()
    release = version.release
    base = ".".join(map(str, release))
    public = version.public
    found = {str(version), base, f"{base}.dev0", f"{base}a1", f"{base}rc1", f"{base}.post1", f"{base}+local"}
    found |= {f"{base}.0.1", f"{base}.0", f"{public}+local"}
    # Right around the literal itself: its dev and post neighbours.
    if version.dev is None:
        found.add(f"{public}.dev0")
        if version.post is None:
            found |= {f"{public}.post1", f"{public}.post0.dev0"}
        else:
            found |= {f"{public.rsplit('.post', 1)[0]}.post{version.post + 1}.dev0"}
    else:
        found.add(f"{public.rsplit('.dev', 1)[0]}.dev{version.dev + 1}")
    for index in range(len(release)):
        up = ".".join(map(str, (*release[:index], release[index] + 1)))
        found |= {up, f"{up}rc1", f"{up}.0"}
        if release[index]:
            down = ".".join(map(str, (*release[:index], release[index] - 1)))
            found |= {f"{down}.5", down}
    return found


@functools.cache
def candidates(variable: str, atoms: tuple[str, ...]) -> list[str]:
    """Values of ``variable`` around the literals of ``atoms`` (a superset of the cells)."""
    literals = [literal for atom in atoms if variable_of(atom) == variable for literal in QUOTED.findall(atom)]
    found = {DEFAULTS.get(variable, ""), "other"}
    for literal in literals:
        found |= {literal, literal[:3], literal + "2", "x" + literal + "y", ""}
        found |= {literal[i:j] for i in range(len(literal)) for j in range(i + 1, len(literal) + 1)}
        found |= neighbours(literal)
        for part in literal.split():
            found |= neighbours(part)
    # A value holding two literals: "'lin' in v" does not rule out "'win' in v".
    found |= {first + second for first in literals for second in literals}
    if variable in ("python_full_version", "implementation_version"):
        found = {value for value in found if valid_version(value)} | {"2.7.18", "3.7.0", "4.0.0"}
    return sorted(found)


def valid_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def names_of(atoms: Iterable[str], *variables: str) -> list[str]:
    return sorted(
        {literal for atom in atoms if variable_of(atom) in variables for literal in QUOTED.findall(atom)}
    )


class Environment:
    """One environment: strings for every variable; selected extras (``extra``
    and PEP 751's ``extras`` apart) and groups."""

    def __init__(
        self, values: dict[str, str], extras: Iterable[str], groups: Iterable[str], extra: Iterable[str] = ()
    ) -> None:
        self.values = {**DEFAULTS, **values}
        full = Version(self.values["python_full_version"])
        self.values["python_version"] = ".".join(map(str, (*full.release, 0)[:2]))
        self.extras = frozenset(extras)
        self.groups = frozenset(groups)
        self.extra = frozenset(extra)

    def for_packaging(self) -> dict[str, object]:
        extra = self.extra if EXTRA_SETS else "".join(self.extra)
        return {**self.values, "extra": extra, "extras": self.extras, "dependency_groups": self.groups}

    def packaging(self, marker: str) -> bool:
        return parsed(marker).evaluate(self.for_packaging())

    def tree(self, tree: MarkerTree) -> bool:
        values = {**self.values, "extra": self.extra}
        return tree.evaluate(values, extras=self.extras, dependency_groups=self.groups)

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.values.items() if DEFAULTS.get(k) != v}
        return f"Environment({changed}, extra={set(self.extra)}, extras={set(self.extras)}, groups={set(self.groups)})"


@functools.lru_cache(maxsize=4096)
def parsed(marker: str) -> Marker:
    return Marker(marker)


def subsets(names: list[str]) -> list[frozenset[str]]:
    return [frozenset(c) for r in range(len(names) + 1) for c in itertools.combinations(names, r)]


# packaging takes a set of names for ``extra`` from 26.4 on, one name before.
EXTRA_SETS = Version(packaging.__version__) >= Version("26.4")


def extra_selections(atoms: list[str]) -> list[frozenset[str]]:
    return [chosen for chosen in subsets(names_of(atoms, "extra")) if EXTRA_SETS or len(chosen) <= 1]


@st.composite
def environments(draw: st.DrawFn, atoms: list[str]) -> Environment:
    values = {}
    for variable in sorted({variable_of(atom) for atom in atoms} - {"extra", "extras", "dependency_groups"}):
        values[variable] = draw(st.sampled_from(candidates(variable, tuple(atoms))))
    extra = draw(st.sampled_from(extra_selections(atoms)))
    extras = draw(st.sampled_from(subsets(names_of(atoms, "extras"))))
    groups = draw(st.sampled_from(subsets(names_of(atoms, "dependency_groups"))))
    return Environment(values, extras, groups, extra)


def covering(atoms: list[str], *, keep: Callable[[str, str], bool] | None = None) -> list[Environment]:
    """One environment per combination of the answers packaging gives to ``atoms``.

    Variables are independent, so the combinations are the product, over
    variables, of one value for each distinct answer vector of that
    variable's atoms. ``keep`` filters the candidate values (variable, value).
    """
    per_variable: list[list[tuple[str, str]]] = []
    for variable in sorted({variable_of(atom) for atom in atoms} - {"extra", "extras", "dependency_groups"}):
        own = [atom for atom in atoms if variable_of(atom) == variable]
        seen: dict[tuple[bool, ...], str] = {}
        for value in candidates(variable, tuple(atoms)):
            if keep is not None and not keep(variable, value):
                continue
            environment = Environment({variable: value}, (), ())
            seen.setdefault(tuple(environment.packaging(atom) for atom in own), value)
        per_variable.append([(variable, value) for value in seen.values()])
    selections = itertools.product(
        extra_selections(atoms),
        subsets(names_of(atoms, "extras")),
        subsets(names_of(atoms, "dependency_groups")),
    )
    return [
        Environment(dict(choice), extras, groups, extra)
        for choice, (extra, extras, groups) in itertools.product(itertools.product(*per_variable), list(selections))
    ]


def truth(marker: str, environments: list[Environment]) -> list[bool]:
    return [environment.packaging(marker) for environment in environments]


def tree(marker: str) -> MarkerTree:
    return MarkerTree.from_marker(marker)


# -- evaluation -----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_evaluation_matches_packaging(data: st.DataObject) -> None:
    marker = data.draw(markers(tuple(ALL)))
    environment = data.draw(environments(atoms_of(marker)))
    assert environment.tree(tree(marker)) == environment.packaging(marker)


# Literals no Python version has, for every boundary PEP 440 draws.
ODD_VERSIONS = [
    "python_full_version < '3.8.post1'",
    "python_full_version <= '3.8.post1'",
    "python_full_version > '3.8.1.dev2'",
    "python_full_version > '3.8rc1'",
    "python_full_version ~= '3.8.0rc1'",
    "python_full_version == '3.8.1.*'",
    "python_full_version != '3.*'",
    "python_version > '3.8.post1'",
    "python_version ~= '3.8.1'",
    "python_version == '3'",
]
_RANDOM_VERSIONS = st.builds(
    lambda release, suffix: ".".join(map(str, release)) + suffix,
    st.lists(st.integers(0, 13), min_size=1, max_size=4),
    st.sampled_from(["", "a1", "rc2", ".post1", ".post2", ".dev0", ".dev3", "+local", "rc1.post2.dev3", ".post1.dev0"]),
)


@settings(max_examples=200, deadline=None)
@given(markers(tuple(PYTHON + APPROXIMATE + ODD_VERSIONS)), _RANDOM_VERSIONS)
def test_version_comparisons_match_packaging_on_any_version(marker: str, version: str) -> None:
    environment = Environment({"python_full_version": version, "implementation_version": version}, (), ())
    assert environment.tree(tree(marker)) == environment.packaging(marker)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_operators_follow_boolean_logic(data: st.DataObject) -> None:
    first, second = data.draw(markers(tuple(ALL))), data.draw(markers(tuple(ALL)))
    environment = data.draw(environments(atoms_of(first) + atoms_of(second)))
    a, b = environment.packaging(first), environment.packaging(second)
    assert environment.tree(tree(first) & tree(second)) == (a and b)
    assert environment.tree(tree(first) | tree(second)) == (a or b)
    assert environment.tree(~tree(first)) == (not a)


@pytest.mark.parametrize("atom", PYTHON + ODD_VERSIONS + APPROXIMATE)
def test_version_atoms_match_packaging_around_their_literals(atom: str) -> None:
    marker = tree(atom)
    for value in candidates("python_full_version", (atom,)) + candidates("implementation_version", (atom,)):
        environment = Environment({"python_full_version": value, "implementation_version": value}, (), ())
        assert environment.tree(marker) == environment.packaging(atom), value


def test_missing_values_come_from_the_running_interpreter() -> None:
    here = Marker("python_full_version >= '3.11' and os_name == 'posix'").evaluate()
    assert tree("python_full_version >= '3.11' and os_name == 'posix'").evaluate() == here


def test_extra_and_extras_are_different_variables() -> None:
    # The extras of the package whose metadata holds the marker, and of the project a lock installs.
    assert tree("extra == 'cpu'") != tree("'cpu' in extras")
    assert tree("extra == 'cpu'").evaluate(extras=["CPU"])
    assert not tree("extra == 'cpu'").evaluate({"extra": "gpu"}, extras=["cpu"])
    assert tree("extra == 'cpu' and 'gpu' in extras").evaluate({"extra": ["cpu"]}, extras=["gpu"])


def test_python_version_is_derived_from_python_full_version() -> None:
    marker = tree("python_version == '3.8' and '3.8' <= python_version")
    assert marker.evaluate({"python_full_version": "3.8.0rc1"})
    assert not marker.evaluate({"python_full_version": "3.9.1"})


# -- decisions, checked by brute force -----------------------------------------------------



@settings(max_examples=200, deadline=None)
@given(markers(tuple(SMALL), 5), markers(tuple(SMALL), 5))
def test_decisions_match_brute_force(first: str, second: str) -> None:
    everywhere = covering(atoms_of(first) + atoms_of(second))
    a, b = truth(first, everywhere), truth(second, everywhere)
    x, y = tree(first), tree(second)
    assert x.is_true == all(a)
    assert x.is_false == (not any(a))
    assert x.implies(y) == all(not p or q for p, q in zip(a, b, strict=True))
    assert x.is_disjoint(y) == (not any(p and q for p, q in zip(a, b, strict=True)))
    # Canonical form: the same meaning is the same tree.
    assert (x == y) == (a == b)


@settings(max_examples=100, deadline=None)
@given(markers(tuple(ALL), 3), markers(tuple(ALL), 3))
def test_decisions_match_brute_force_on_every_atom(first: str, second: str) -> None:
    atoms = atoms_of(first) + atoms_of(second)
    if any(atom in OPAQUE for atom in atoms):
        return  # relations between opaque atoms are not all known (module docs)
    if not EXTRA_SETS and len(names_of(atoms, "extra")) > 1:
        # Before 26.4 packaging holds one extra at a time, so to it
        # "extra == 'a'" implies "extra != 'b'"; the tree's extras are a set.
        return
    everywhere = covering(atoms)
    a, b = truth(first, everywhere), truth(second, everywhere)
    x, y = tree(first), tree(second)
    assert x.is_false == (not any(a))
    assert x.implies(y) == all(not p or q for p, q in zip(a, b, strict=True))
    assert (x == y) == (a == b)


def test_contradictions_and_tautologies() -> None:
    assert tree("python_version >= '3.8' and python_full_version < '3.8.0'").is_false
    assert tree("python_version >= '3.8' or python_version < '3.8'").is_true
    assert tree("sys_platform == 'linux' and 'win' in sys_platform").is_false
    assert tree("'linux' in sys_platform and 'lin' not in sys_platform").is_false
    assert tree("extra == 'cpu' or extra != 'CPU'").is_true
    assert tree("sys_platform < 'linux'").is_false
    assert tree("'x' == extras").is_false
    # 3.8.0rc1 is neither >= 3.8 nor < 3.8 in PEP 440.
    assert not tree("python_full_version >= '3.8' or python_full_version < '3.8'").is_true


def test_containment_implies_containment_of_substrings() -> None:
    assert tree("'lin' in sys_platform or 'linux' in sys_platform") == tree("'lin' in sys_platform")
    assert tree("'lin' in sys_platform and 'linux' in sys_platform") == tree("'linux' in sys_platform")
    assert tree("'lin' in sys_platform and 'nux' in sys_platform") != tree("'linux' in sys_platform")
    assert tree("sys_platform == 'linux' or 'lin' in sys_platform") == tree("'lin' in sys_platform")


def test_python_version_means_the_first_two_numbers() -> None:
    assert tree("python_version == '3.8'") == tree("python_full_version == '3.8.*'")
    assert tree("python_version == '3.8'").evaluate({"python_full_version": "3.8.0rc1"})
    assert tree("python_version > '3.8'") == tree("python_version >= '3.9'")
    assert tree("python_version <= '3.8'") == tree("python_full_version < '3.9'")
    assert tree("python_version == '3.8.1'").is_false
    assert tree("python_version < '3.8.1'") == tree("python_version < '3.9'")
    assert tree("python_version ~= '3.8'") == tree("python_version >= '3.8' and python_version < '4'")


def test_names_are_normalized() -> None:
    assert tree("extra == 'Dev_Tools'") == tree("extra == 'dev-tools'")
    assert tree("'Dev' in dependency_groups") == tree("'dev' in dependency_groups")
    assert tree("os.name == 'nt'") == tree("os_name == 'nt'")
    assert tree("'linux' == sys_platform") == tree("sys_platform == 'linux'")


# -- laws ------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(markers(tuple(ALL), 3), markers(tuple(ALL), 3), markers(tuple(ALL), 3))
def test_boolean_laws_hold_as_identities(first: str, second: str, third: str) -> None:
    a, b, c = tree(first), tree(second), tree(third)
    assert a & (b | c) == (a & b) | (a & c)
    assert a | (b & c) == (a | b) & (a | c)
    assert ~(a & b) == ~a | ~b
    assert ~(a | b) == ~a & ~b
    assert a | (a & b) == a
    assert a & (a | b) == a
    assert ~~a == a
    assert (a | ~a).is_true and (a & ~a).is_false
    assert tree(f"({first}) or ({first}) and ({second})") == a


def test_trees_are_immutable_values() -> None:
    marker = tree("sys_platform == 'linux'")
    assert {marker: 1}[tree("sys_platform == 'linux' or sys_platform == 'linux'")] == 1
    with pytest.raises(AttributeError):
        marker._var = (0, 0, 0, "")  # type: ignore[misc]
    with pytest.raises(TypeError):
        bool(marker)


# -- text ----------------------------------------------------------------------------------------

# PEP 508 cannot negate these two (see test_negation_that_pep_508_cannot_write_is_an_error).
NO_NEGATION = ["'3.8' <= python_version", "python_full_version === '3.9.1'"]
EXACT_TEXT = [atom for atom in ALL if atom not in APPROXIMATE + NO_NEGATION]


def exact_domain(variable: str, value: str) -> bool:
    """Environments the text form is exact for (module docs).

    No post-release of a version a cut is drawn above, and a
    ``platform_release`` that is a version (strings that are not may only be
    named where the tree singles them out, see the test below).
    """
    if variable == "platform_release":
        return valid_version(value)
    return ".post" not in value


@settings(max_examples=150, deadline=None)
@given(markers(tuple(EXACT_TEXT), 4))
def test_text_evaluates_like_the_tree(marker: str) -> None:
    # The negation too: and/or alone never make the text negate an atom.
    text, negated = tree(marker).to_marker(), (~tree(marker)).to_marker()
    for environment in covering(atoms_of(marker), keep=exact_domain):
        expected = environment.packaging(marker)
        assert (True if text is None else environment.packaging(str(text))) == expected, (str(text), environment)
        negation = True if negated is None else environment.packaging(str(negated))
        assert negation != expected, (str(negated), environment)


def test_text_names_release_strings_the_tree_singles_out() -> None:
    marker = tree("platform_release == '5.15.0-91-generic' or platform_release >= '6'")
    assert str(marker) == "platform_release >= '6.0' or platform_release == '5.15.0-91-generic'"
    # Below 6.0, its release candidates (6.0.0-rc1 reads as 6.0.0rc1) included.
    negated = ~marker
    assert str(negated) == "platform_release <= '6.0' and platform_release != '6.0'"
    for value in ("5.15.0-91-generic", "6.1", "5.4", "6.0.0-rc1"):
        environment = Environment({"platform_release": value}, (), ())
        assert environment.packaging(str(negated)) == environment.tree(negated)
    # Other strings that are no version: the tree says yes, no text can.
    assert negated.evaluate({"platform_release": "5.15.0-azure"})
    assert not Marker(str(negated)).evaluate({"platform_release": "5.15.0-azure"})


READS_BACK = PYTHON + PLATFORM + EXTRAS


@settings(max_examples=150, deadline=None)
@given(markers(tuple(READS_BACK), 4))
def test_text_reads_back_as_the_same_tree(marker: str) -> None:
    written = tree(marker)
    assert MarkerTree.from_marker(written.to_marker()) == written


# Where uv writes the same marker, `uv pip compile --universal` was checked to
# write exactly this. It differs in one way: a lower bound at the start of a
# minor series, which uv writes `python_full_version >= 'X.Y'` (that leaves
# out the pre-releases of X.Y.0).
UV_STYLE = [
    (
        "sys_platform == 'linux' and python_full_version >= '3.10'",
        "python_full_version >= '3.10' and sys_platform == 'linux'",
    ),
    ("python_version < '3.11'", "python_full_version < '3.11'"),
    ("python_version == '3.10'", "python_full_version == '3.10.*'"),
    ("python_version != '3.11'", "python_full_version != '3.11.*'"),
    ("python_version >= '3.12'", "python_version >= '3.12'"),
    ("python_full_version >= '3.13.1'", "python_full_version >= '3.13.1'"),
    ("python_full_version <= '3.11'", "python_full_version <= '3.11'"),
    (
        "python_version < '3.10' or python_version == '3.11'",
        "python_full_version < '3.10' or python_full_version == '3.11.*'",
    ),
    (
        "sys_platform != 'linux' or python_version < '3.10'",
        "python_full_version < '3.10' or sys_platform != 'linux'",
    ),
    (
        "(python_version < '3.13' and platform_machine == 'aarch64' and sys_platform == 'linux')"
        " or sys_platform == 'darwin'",
        "(python_full_version < '3.13' and platform_machine == 'aarch64' and sys_platform == 'linux')"
        " or sys_platform == 'darwin'",
    ),
    ("platform_machine in 'x86_64 AMD64'", "platform_machine in 'x86_64 AMD64'"),
    ("'cpu' in extras and 'dev' not in dependency_groups", "'cpu' in extras and 'dev' not in dependency_groups"),
    ("extra == 'cpu' and sys_platform == 'win32'", "sys_platform == 'win32' and extra == 'cpu'"),
    (
        "python_version >= '3.9' and python_version < '3.11'",
        "python_version >= '3.9' and python_full_version < '3.11'",
    ),
    (
        "python_full_version < '3.8' or python_full_version >= '3.9'",
        "python_full_version < '3.8' or python_full_version >= '3.9'",
    ),
    # Two paths of the diagram end up the same clause: written once.
    (
        "python_full_version < '3.9' or (sys_platform == 'win32' and python_version >= '3.12')",
        "python_full_version < '3.9' or (python_version >= '3.12' and sys_platform == 'win32')",
    ),
    # Implied terms go: == 'arm64' says != 'AMD64'.
    (
        "(platform_machine == 'arm64' and os_name == 'nt') or platform_machine != 'AMD64'",
        "platform_machine != 'AMD64'",
    ),
]


@pytest.mark.parametrize(("marker", "text"), UV_STYLE)
def test_text_in_uvs_style(marker: str, text: str) -> None:
    assert str(tree(marker)) == text


def test_text_of_constants() -> None:
    assert TRUE.to_marker() is None and str(TRUE) == ""
    assert str(FALSE) == "python_version < '0'"
    assert MarkerTree.from_marker(FALSE.to_marker()).is_false
    assert MarkerTree.from_marker(None).is_true


def test_text_says_what_pep_440_means() -> None:
    # Below 3.8.0 includes its pre-releases, which "< '3.8'" leaves out.
    below = "python_full_version <= '3.8' and python_full_version != '3.8'"
    assert str(~tree("python_full_version >= '3.8'")) == below
    assert str(~tree("python_version >= '3.8'")) == "python_full_version < '3.8'"


def test_negation_that_pep_508_cannot_write_is_an_error() -> None:
    for atom in NO_NEGATION:
        with pytest.raises(MarkerError, match="cannot be written"):
            (~tree(atom)).to_marker()
        assert "not writable" in repr(~tree(atom))
    # Not needed when the other branch implies this one.
    assert str(tree(f"extra == 'cpu' or {NO_NEGATION[0]}")) == f"{NO_NEGATION[0]} or extra == 'cpu'"


# -- simplification --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.one_of(markers(tuple(ALL), 4), markers(tuple(SMALL), 4)), markers(tuple(SMALL + EXTRAS), 3))
def test_simplify_under_keeps_the_meaning_inside_the_context(marker: str, context: str) -> None:
    simplified = tree(marker).simplify_under(tree(context))
    for environment in covering(atoms_of(marker) + atoms_of(context)):
        if environment.packaging(context):
            assert environment.tree(simplified) == environment.packaging(marker), environment


UNDER = [
    ("python_version >= '3.8'", "python_full_version >= '3.9'", ""),
    ("python_version < '3.9'", "python_full_version >= '3.9'", "python_version < '0'"),
    (
        "python_version >= '3.10' or sys_platform == 'win32'",
        "python_full_version >= '3.9'",
        "python_version >= '3.10' or sys_platform == 'win32'",
    ),
    (
        "python_full_version >= '3.9' and sys_platform == 'linux'",
        "python_full_version >= '3.9'",
        "sys_platform == 'linux'",
    ),
    ("sys_platform == 'linux' and python_version < '3.11'", "sys_platform == 'linux'", "python_full_version < '3.11'"),
    (
        "sys_platform == 'darwin' or extra == 'cpu'",
        "sys_platform == 'linux' or sys_platform == 'darwin'",
        "sys_platform == 'darwin' or extra == 'cpu'",
    ),
    ("python_version < '3.12'", "python_full_version >= '3.9' and python_full_version < '3.12'", ""),
    ("extra == 'cpu' or sys_platform == 'linux'", "extra != 'cpu'", "sys_platform == 'linux'"),
    ("'dev' in dependency_groups and os_name == 'nt'", "'dev' in dependency_groups", "os_name == 'nt'"),
    (
        "('dev' in dependency_groups and extra == 'a') or ('dev' not in dependency_groups and extra == 'b')",
        "'dev' not in dependency_groups",
        "extra == 'b'",
    ),
]


@pytest.mark.parametrize(("marker", "context", "simplified"), UNDER)
def test_simplify_under_requires_python(marker: str, context: str, simplified: str) -> None:
    assert str(tree(marker).simplify_under(tree(context))) == simplified


def test_requires_python_is_a_python_full_version_range() -> None:
    expected = tree("python_full_version >= '3.9' and python_full_version < '4'")
    assert MarkerTree.from_requires_python(">=3.9,<4") == expected
    with pytest.raises(MarkerError, match="Requires-Python"):
        MarkerTree.from_requires_python(">=3.9,<<4")


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("python_version >= ", "invalid marker 'python_version >= ': Expected a marker variable or quoted string"),
        ("sys_platform ~= 'linux'", "cannot be evaluated"),
        ("extras == 'cpu'", "extras is a set"),
        ("extra < 'cpu'", "extra can only be compared with == or !="),
        ("os_name == sys_platform", "compares two variables"),
        ("'a' == 'b'", "compares two literals"),
        ("python_full_version ~= '3'", "is not a version"),
    ],
)
def test_bad_markers_are_clear_errors(marker: str, message: str) -> None:
    with pytest.raises(MarkerError) as raised:
        MarkerTree.from_marker(marker)
    assert message in str(raised.value)


def test_invalid_version_in_the_environment_is_an_error() -> None:
    with pytest.raises(MarkerError, match="python_full_version 'three' is not a valid version"):
        tree("python_version >= '3.8'").evaluate({"python_full_version": "three"})

