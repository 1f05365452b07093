"""PEP 508 environment markers as canonical decision diagrams.

What it is for. Universal resolution forks on markers and asks whether a
marker is always true, never true, implied by another or disjoint from it;
the lock writers (``pylock.toml``, ``pip compile --universal``) write the
markers back, short and readable. :class:`MarkerTree` answers all of these
exactly, with ``packaging``'s evaluation as the reference semantics.

Imports. ``packaging`` (public API only), :mod:`freewheel.errors` and
:mod:`freewheel.resolver.pubgrub` (for PEP 440 set semantics); nothing else.

Representation. A tree is a reduced, ordered decision diagram, hash-consed:
every node is interned, so two trees that mean the same thing *are* the same
object and ``is_true`` / ``is_false`` / ``==`` are identity checks. Each
internal node tests one variable, in a fixed order (platform strings first,
then versions, then extras and groups), and partitions its domain:

* string variables (``sys_platform`` …): finitely many explicit strings, each
  with its own child, and one child for every other string;
* version variables (``python_full_version``, ``implementation_version``,
  and ``platform_release`` for the values that parse as versions): sorted
  *cuts* on the PEP 440 version line, one child per interval between cuts.
  A cut is the point just below a version V, or just above every
  post-release of V (what ``> V`` excludes); every boundary any specifier
  draws is one of these, named canonically, so equal sets have equal cuts.
  ``python_version`` is not a variable: ``python_version OP 'X.Y'`` becomes
  the set of full versions whose first two release numbers satisfy it
  (``python_version == '3.8'`` is ``python_full_version == '3.8.*'``, which
  includes 3.8.0rc1);
* boolean variables: one per extra name (``extra == 'cpu'``), per name in
  PEP 751's ``extras`` and ``dependency_groups`` sets, and per *opaque* atom
  (below). ``extra`` and ``extras`` are different variables, as in
  ``packaging``: the extras of the package whose metadata holds the marker,
  and those a lock file's project is installed with.

Which PEP 440 versions satisfy a specifier is decided by the solver's own
:func:`~freewheel.resolver.pubgrub.from_specifier` ranges, probed at one
version inside every interval, so this module has no PEP 440 rules of its
own; it only proposes where the boundaries may be.

Costs. Parsing a marker text is cached per text; ``packaging`` validates it
first, which is about half of the first build. ``&`` and ``|`` are memoized
Shannon expansions: at worst proportional to the product of the sizes of the
two diagrams, a dictionary hit when repeated. ``~`` is memoized per node;
``implies`` and ``is_disjoint`` build one conjunction; writing text walks
every path to ``TRUE`` and asks the algebra about each term (cached per
tree). A diagram can grow exponentially with the number of
independent variables an ``or`` of unrelated markers mixes; markers as found
in metadata stay small. ``bench/markers.py`` times all of this (tens of
microseconds per operation on markers of up to four atoms). Interned nodes
live as long as the process (they are the canonical forms); the operation
caches start over when they grow large. Interning is thread-safe.

Exactness. Evaluation (:meth:`MarkerTree.evaluate`) always agrees with
``packaging``. The algebra (equality, ``is_true``, ``is_false``, ``implies``,
``is_disjoint``) is exact over these environments:

* ``python_full_version`` and ``implementation_version`` are valid PEP 440
  versions (Python and ``packaging`` always report one), and
  ``python_version`` is the first two release numbers of
  ``python_full_version``, which has no epoch;
* other variables hold any string, each independent of the others (uv
  equates ``platform_system == 'Windows'`` with ``sys_platform == 'win32'``;
  PEP 508 does not, and neither does this module).

*Opaque* atoms are those a partition cannot express: ``'x' in sys_platform``
(substring containment), ``===``, comparisons written value-first on version
variables (``'3.8' <= python_version``), ``in`` on version variables other
than ``python_version``, local versions in version comparisons, string
comparisons ``packaging`` falls back to on version variables with a literal
that parses as a version, and ``extra == ''``. Each is an independent boolean
variable evaluated by ``packaging``; it is resolved exactly under an explicit
string of its variable (``sys_platform == 'linux' and 'win' in sys_platform``
is false), and ``'linux' in X`` implies ``'lin' in X``. Other relations
between an opaque atom and the rest of its variable are not known, so a
combination that is always true or false may not simplify to ``TRUE`` or
``FALSE``; evaluation stays exact.

Text. :meth:`MarkerTree.to_marker` writes a disjunction of conjunctions in
uv's style (versions first, ``python_full_version`` forms, single quotes):
one conjunction per path of the diagram, then every term and conjunction
the algebra proves unneeded dropped, so that none is redundant. PEP 508
cannot say everything the algebra can, so the text is exact except: the
point above every post-release of V is written ``<= V`` (only post-releases
of V, which no Python has, differ); and ``platform_release`` values that are
not versions are left out, except strings the tree singles out
(``platform_release == '5.15.0-91-generic'``). A lower bound at the start of a minor series is written
``python_version >= 'X.Y'`` because ``python_full_version >= 'X.Y'`` would
leave out the pre-releases of X.Y.0. A tree needing the negation of an opaque
atom that has none (``===``, value-first ordering comparisons) raises
:class:`MarkerError`.
"""

from __future__ import annotations

import ast
import collections
import functools
import itertools
import re
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from packaging.markers import InvalidMarker, Marker, default_environment
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from freewheel.errors import InputError
from freewheel.resolver.pubgrub import from_specifier, version_key

__all__ = ["FALSE", "TRUE", "MarkerError", "MarkerTree"]


class MarkerError(InputError):
    """A marker that is not valid PEP 508, or that no marker text can express."""


# -- variables -------------------------------------------------------------------

_STRING, _VERSION, _LOOSE_VERSION, _PYTHON_VERSION, _EXTRA, _SET = range(6)


class _Variable(NamedTuple):
    rank: int  # position in the decision order (roots first)
    display: int  # position in written conjunctions (uv's order)
    kind: int


# Platform strings decide first: they split lock files into forks, and keeping
# them above versions lets a platform's whole version logic share one subtree.
# Extras and groups come last, as leaves that lock writers can peel off.
_VARIABLES: dict[str, _Variable] = {
    "sys_platform": _Variable(0, 9, _STRING),
    "platform_system": _Variable(1, 7, _STRING),
    "os_name": _Variable(2, 3, _STRING),
    "platform_machine": _Variable(3, 4, _STRING),
    "platform_python_implementation": _Variable(4, 5, _STRING),
    "implementation_name": _Variable(5, 2, _STRING),
    "platform_version": _Variable(6, 8, _STRING),
    "platform_release": _Variable(7, 6, _LOOSE_VERSION),
    "python_full_version": _Variable(8, 1, _VERSION),
    "implementation_version": _Variable(9, 0, _VERSION),
    "python_version": _Variable(10, 1, _PYTHON_VERSION),
    "extras": _Variable(11, 10, _SET),
    "dependency_groups": _Variable(12, 11, _SET),
    "extra": _Variable(13, 12, _EXTRA),
}
_NAME_OF_RANK = {variable.rank: name for name, variable in _VARIABLES.items()}
_ALIASES = {"python_implementation": "platform_python_implementation"}

# A node's variable: (rank, sub-kind, -len(literal), literal). Sub-kind 0 is
# the variable itself (or one extra/group name), 1 a containment test ordered
# longest literal first (so "linux" in X decides before "lin" in X, which it
# implies), 2 any other opaque atom.
_Var = tuple[int, int, int, str]
_SCALAR, _CONTAINS, _OPAQUE_ATOM = 0, 1, 2
_TERMINAL_VAR: _Var = (99, 0, 0, "")


# -- cuts on the version line -------------------------------------------------------

_INF = float("inf")


class _Cut:
    """A point between versions: just below ``version``, or above all its post-releases.

    Interned, so identity is equality. ``key`` orders cuts among themselves
    and against :func:`_probe` keys of versions.
    """

    __slots__ = ("after_posts", "key", "version")

    def __init__(self, version: Version, after_posts: bool) -> None:
        self.version = version
        self.after_posts = after_posts
        vkey = version_key(version)
        # version_key is (epoch, release, pre rank, pre number, post, dev, local):
        # an infinite post number sorts above every post-release of version.
        self.key = (vkey[:4] + (_INF,), 0) if after_posts else (vkey, 0)

    def __repr__(self) -> str:
        return f"<cut {'above posts of' if self.after_posts else 'below'} {self.version}>"


_CUTS: dict[tuple[Any, ...], _Cut] = {}


def _probe(version: Version) -> tuple[Any, ...]:
    """A key that sorts just above every cut at or below ``version``."""
    return (version_key(version), 1)


def _cut(version: Version, *, after_posts: bool = False) -> _Cut:
    cut = _Cut(_canonical(version), after_posts)
    return _CUTS.setdefault(cut.key, cut)


def _make_version(
    epoch: int,
    release: tuple[int, ...],
    pre: tuple[str, int] | None = None,
    post: int | None = None,
    dev: int | None = None,
) -> Version:
    text = ".".join(map(str, release))
    if epoch:
        text = f"{epoch}!{text}"
    if pre is not None:
        text += f"{pre[0]}{pre[1]}"
    if post is not None:
        text += f".post{post}"
    if dev is not None:
        text += f".dev{dev}"
    return Version(text)


def _canonical(version: Version) -> Version:
    """``version`` spelled one way: public, no trailing zeros past the minor."""
    release = version.release
    while len(release) > 2 and release[-1] == 0:
        release = release[:-1]
    if len(release) < 2:
        release = (*release, 0)
    return _make_version(version.epoch, release, version.pre, version.post, version.dev)


def _successor(version: Version) -> Version:
    """The first version above ``version`` and its local versions (``version`` public)."""
    epoch, release, pre = version.epoch, version.release, version.pre
    if version.dev is not None:
        return _make_version(epoch, release, pre, version.post, version.dev + 1)
    if version.post is not None:
        return _make_version(epoch, release, pre, version.post + 1, 0)
    return _make_version(epoch, release, pre, 0, 0)


def _predecessor(version: Version) -> Version | None:
    """The version whose :func:`_successor` is ``version``, if there is one."""
    epoch, release, pre, post, dev = version.epoch, version.release, version.pre, version.post, version.dev
    if dev is None:
        return None
    if dev > 0:
        return _make_version(epoch, release, pre, post, dev - 1)
    if post is None:
        return None
    return _make_version(epoch, release, pre, post - 1 if post else None)


def _first_of(release: tuple[int, ...], epoch: int) -> Version:
    """The lowest version whose release starts with ``release``."""
    return _make_version(epoch, release, dev=0)


def _after_prefix(release: tuple[int, ...], epoch: int) -> Version:
    """The lowest version above every version whose release starts with ``release``."""
    return _first_of((*release[:-1], release[-1] + 1), epoch)


def _candidate_cuts(version: Version) -> set[_Cut]:
    """Every cut a specifier on ``version`` (public) can draw, and a few more."""
    epoch, release = version.epoch, version.release
    cuts = {_cut(version), _cut(_successor(version))}
    if version.dev is None:
        # "< V" stops below V's dev and pre-releases.
        cuts.add(_cut(_make_version(epoch, release, version.pre, version.post, 0)))
    if version.dev is None and version.post is None:
        cuts.add(_cut(version, after_posts=True))
    for prefix in {release, release[:-1] or release}:
        cuts.add(_cut(_first_of(prefix, epoch)))
        cuts.add(_cut(_after_prefix(prefix, epoch)))
    return cuts


def _representative(lower: _Cut | None, upper: _Cut | None, depth: int) -> Version | None:
    """A version between ``lower`` and ``upper``, or ``None`` when there is none.

    ``depth`` exceeds the release length of every cut around, so that the
    version above the post-releases of V is below every other cut above V.
    """
    if lower is None:
        candidate = Version("0.dev0")  # the lowest version there is
    elif lower.after_posts:
        base = lower.version
        candidate = _make_version(base.epoch, (*base.release, *(0,) * depth, 1))
    else:
        candidate = lower.version
    if upper is not None and not _probe(candidate) < upper.key:
        return None
    return candidate


# -- nodes ---------------------------------------------------------------------------


class MarkerTree:
    """A PEP 508 marker in canonical form: equal meaning, same object.

    Build trees with :meth:`from_marker` (or :meth:`from_requires_python`),
    combine them with ``&``, ``|`` and ``~``, and write them back with
    :meth:`to_marker` or ``str()``. :data:`TRUE` is the empty marker,
    :data:`FALSE` the marker no environment satisfies. Trees are immutable
    and hashable; comparing two trees compares their meaning.
    """

    __slots__ = ("_neg", "_text", "_uid", "_var")

    _uid: int
    _var: _Var
    _neg: MarkerTree | None
    _text: str | None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    # -- construction -----------------------------------------------------------

    @staticmethod
    def from_marker(marker: Marker | str | None) -> MarkerTree:
        """The tree of ``marker``; ``None`` (no marker) is :data:`TRUE`.

        :raises MarkerError: if ``marker`` is not a valid PEP 508 marker, or
            compares values ``packaging`` cannot evaluate in any environment
            (``os_name ~= 'x'``, ``extras == 'a'``, two variables…).
        """
        if marker is None:
            return TRUE
        if isinstance(marker, Marker):
            return _from_text(str(marker))
        return _from_text(marker)

    @staticmethod
    def from_requires_python(specifiers: SpecifierSet | str) -> MarkerTree:
        """The tree of ``python_full_version`` satisfying ``specifiers`` (a Requires-Python).

        :raises MarkerError: if ``specifiers`` is not a valid specifier set.
        """
        try:
            specifier_set = SpecifierSet(str(specifiers))
        except InvalidSpecifier as exc:
            raise MarkerError(f"invalid Requires-Python {str(specifiers)!r}: {exc}") from None
        tree: MarkerTree = TRUE
        for specifier in specifier_set:
            tree = tree & _atom("python_full_version", specifier.operator, specifier.version, False)
        return tree

    # -- queries ----------------------------------------------------------------

    @property
    def is_true(self) -> bool:
        """Whether every environment satisfies the marker."""
        return self is TRUE

    @property
    def is_false(self) -> bool:
        """Whether no environment satisfies the marker."""
        return self is FALSE

    def implies(self, other: MarkerTree) -> bool:
        """Whether every environment that satisfies this marker satisfies ``other``."""
        return _apply(_AND, self, _negate(other)) is FALSE

    def is_disjoint(self, other: MarkerTree) -> bool:
        """Whether no environment satisfies both markers."""
        return _apply(_AND, self, other) is FALSE

    def evaluate(
        self,
        environment: Mapping[str, str | Iterable[str]] | None = None,
        *,
        extras: Iterable[str] = (),
        dependency_groups: Iterable[str] = (),
    ) -> bool:
        """Whether the marker holds in ``environment``, as ``packaging`` evaluates it.

        ``environment`` maps marker variables to strings; a missing one takes
        the running interpreter's value (:func:`packaging.markers.default_environment`).
        ``python_version`` is taken to be the first two release numbers of
        ``python_full_version`` (derived from it when missing). ``extras`` are
        the selected extras (``'x' in extras``), ``dependency_groups`` the
        selected groups. ``extra == 'x'`` tests ``environment['extra']`` (a
        name or names, as ``packaging`` takes it) when given, else ``extras``:
        the two are different variables (the extras of the package whose
        metadata holds the marker; those a lock file's project is installed
        with), though one marker seldom names both. Names are normalized.

        :raises MarkerError: if ``python_full_version`` or
            ``implementation_version`` is not a valid version.
        """
        values = _Values(environment, extras, dependency_groups)
        node = self
        while not isinstance(node, _Terminal):
            node = node._step(values)
        return node is TRUE

    # -- algebra --------------------------------------------------------------------

    def __and__(self, other: MarkerTree) -> MarkerTree:
        if not isinstance(other, MarkerTree):
            return NotImplemented
        return _apply(_AND, self, other)

    def __or__(self, other: MarkerTree) -> MarkerTree:
        if not isinstance(other, MarkerTree):
            return NotImplemented
        return _apply(_OR, self, other)

    def __invert__(self) -> MarkerTree:
        return _negate(self)

    def simplify_under(self, context: MarkerTree) -> MarkerTree:
        """A simpler tree that agrees with this one wherever ``context`` holds.

        What it says outside ``context`` is unspecified: decisions that only
        restate the context go away. Under ``python_full_version >= '3.9'``
        (a project's Requires-Python), ``python_version >= '3.8'`` becomes
        :data:`TRUE` and ``python_version >= '3.10' or sys_platform == 'win32'``
        keeps only what still matters. :data:`FALSE` when ``context`` is.
        """
        return _restrict(self, context, {})

    # -- text ---------------------------------------------------------------------

    def to_marker(self) -> Marker | None:
        """The marker as ``packaging`` reads it; ``None`` for :data:`TRUE`.

        :data:`FALSE` is ``python_version < '0'``, as uv writes it.

        :raises MarkerError: if the tree needs the negation of an opaque
            comparison that PEP 508 cannot negate (see the module docs).
        """
        if self is TRUE:
            return None
        return Marker(str(self))

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = _to_text(self)
            object.__setattr__(self, "_text", text)
        return text

    def __repr__(self) -> str:
        try:
            return f"<MarkerTree({str(self)!r})>"
        except MarkerError:
            return f"<MarkerTree #{self._uid}, not writable as PEP 508>"

    def __bool__(self) -> bool:
        raise TypeError("a MarkerTree has no truth value; use is_true or is_false")

    def __copy__(self) -> MarkerTree:
        return self

    def __deepcopy__(self, memo: object) -> MarkerTree:
        return self

    def __reduce__(self) -> Any:
        # A copy made outside the interning table would break `is` equality.
        raise TypeError("MarkerTree cannot be pickled; pickle its marker text instead")

    # -- node protocol ---------------------------------------------------------------

    def _step(self, values: _Values) -> MarkerTree:
        raise NotImplementedError

    def _map(self, function: Callable[[MarkerTree], MarkerTree]) -> MarkerTree:
        raise NotImplementedError

    def _combine(self, other: Any, function: Callable[[MarkerTree, MarkerTree], MarkerTree]) -> MarkerTree:
        raise NotImplementedError

    def _children(self) -> Iterator[MarkerTree]:
        raise NotImplementedError

    def _branches(self) -> Iterator[tuple[list[_Term], MarkerTree]]:
        raise NotImplementedError


class _Terminal(MarkerTree):
    __slots__ = ()

    def _children(self) -> Iterator[MarkerTree]:
        return iter(())


class _BoolNode(MarkerTree):
    """A yes/no variable: an extra or group name, or an opaque atom."""

    __slots__ = ("_hi", "_lo")

    _hi: MarkerTree
    _lo: MarkerTree

    def _step(self, values: _Values) -> MarkerTree:
        return self._hi if values.test(self._var) else self._lo

    def _map(self, function: Callable[[MarkerTree], MarkerTree]) -> MarkerTree:
        return _mk_bool(self._var, function(self._hi), function(self._lo))

    def _combine(self, other: _BoolNode, function: Callable[[MarkerTree, MarkerTree], MarkerTree]) -> MarkerTree:
        return _mk_bool(self._var, function(self._hi, other._hi), function(self._lo, other._lo))

    def _children(self) -> Iterator[MarkerTree]:
        yield self._hi
        yield self._lo

    def _branches(self) -> Iterator[tuple[list[_Term], MarkerTree]]:
        if self._hi is not FALSE:
            yield [_bool_term(self._var, True)], self._hi
        if self._lo is not FALSE:
            # (A and hi) or (not A and lo) is (A and hi) or lo when lo implies hi.
            needs_negation = not self._lo.implies(self._hi)
            yield [_bool_term(self._var, False)] if needs_negation else [], self._lo


class _StringNode(MarkerTree):
    """A string variable: explicit strings, each with a child, and ``_other`` for the rest."""

    __slots__ = ("_explicit", "_lookup", "_other")

    _explicit: tuple[tuple[str, MarkerTree], ...]
    _lookup: dict[str, MarkerTree]
    _other: MarkerTree

    def _get(self, value: str) -> MarkerTree:
        return self._lookup.get(value, self._other)

    def _step(self, values: _Values) -> MarkerTree:
        return self._get(values.string(self._var))

    def _map(self, function: Callable[[MarkerTree], MarkerTree]) -> MarkerTree:
        explicit = {value: function(child) for value, child in self._explicit}
        return _mk_strings(self._var, explicit, function(self._other))

    def _combine(self, other: _StringNode, function: Callable[[MarkerTree, MarkerTree], MarkerTree]) -> MarkerTree:
        keys = self._lookup.keys() | other._lookup.keys()
        explicit = {value: function(self._get(value), other._get(value)) for value in keys}
        return _mk_strings(self._var, explicit, function(self._other, other._other))

    def _children(self) -> Iterator[MarkerTree]:
        for _, child in self._explicit:
            yield child
        yield self._other

    def _branches(self) -> Iterator[tuple[list[_Term], MarkerTree]]:
        name = _NAME_OF_RANK[self._var[0]]
        groups: dict[MarkerTree, list[str]] = {}
        for value, child in self._explicit:
            groups.setdefault(child, []).append(value)
        for child, members in groups.items():
            if child is not FALSE:
                for term in _cover(name, set(members), negated=False):
                    yield [term], child
        if self._other is not FALSE:
            excluded = {value for value, child in self._explicit if child is not self._other}
            yield _cover(name, excluded, negated=True), self._other


class _VersionNode(MarkerTree):
    """A version variable: cuts on the version line and a child per interval.

    ``platform_release`` also holds strings that are not versions: the
    explicit ones named by the markers, each with a child, and ``_other``
    for the rest. Other version variables have ``_other`` ``None``.
    """

    __slots__ = ("_children_", "_cuts", "_explicit", "_keys", "_lookup", "_other")

    _cuts: tuple[_Cut, ...]
    _keys: tuple[Any, ...]
    _children_: tuple[MarkerTree, ...]
    _explicit: tuple[tuple[str, MarkerTree], ...]
    _lookup: dict[str, MarkerTree]
    _other: MarkerTree | None

    def _get(self, value: str) -> MarkerTree:
        other = self._other
        assert other is not None
        return self._lookup.get(value, other)

    def _step(self, values: _Values) -> MarkerTree:
        text = values.string(self._var)
        if self._other is not None:
            child = self._lookup.get(text)
            if child is not None:
                return child
        version = _parse_version(text)
        if version is None:
            if self._other is None:
                name = _NAME_OF_RANK[self._var[0]]
                raise MarkerError(f"{name} {text!r} is not a valid version")
            return self._other
        return self._children_[bisect_right(self._keys, _probe(version))]

    def _map(self, function: Callable[[MarkerTree], MarkerTree]) -> MarkerTree:
        children = [function(child) for child in self._children_]
        explicit = {value: function(child) for value, child in self._explicit}
        other = None if self._other is None else function(self._other)
        return _mk_versions(self._var, self._cuts, children, explicit, other)

    def _combine(self, other: _VersionNode, function: Callable[[MarkerTree, MarkerTree], MarkerTree]) -> MarkerTree:
        cuts, pairs = _merge_cuts(self._cuts, other._cuts)
        children = [function(self._children_[i], other._children_[j]) for i, j in pairs]
        if self._other is None or other._other is None:
            return _mk_versions(self._var, cuts, children, {}, None)
        keys = self._lookup.keys() | other._lookup.keys()
        explicit = {value: function(self._get(value), other._get(value)) for value in keys}
        return _mk_versions(self._var, cuts, children, explicit, function(self._other, other._other))

    def _children(self) -> Iterator[MarkerTree]:
        yield from self._children_
        for _, child in self._explicit:
            yield child
        if self._other is not None:
            yield self._other

    def _branches(self) -> Iterator[tuple[list[_Term], MarkerTree]]:
        # The text covers valid versions and the explicit strings; other
        # platform_release strings cannot be named in PEP 508 (module docs).
        name = _NAME_OF_RANK[self._var[0]]
        intervals: dict[MarkerTree, list[int]] = {}
        for index, child in enumerate(self._children_):
            intervals.setdefault(child, []).append(index)
        explicit: dict[MarkerTree, list[str]] = {}
        for value, child in self._explicit:
            explicit.setdefault(child, []).append(value)
        for child in [*intervals, *(c for c in explicit if c not in intervals)]:
            if child is FALSE:
                continue
            indices = intervals.get(child, [])
            if len(indices) == len(self._children_):
                excluded = [value for value, other in self._explicit if other is not child]
                yield [_raw_term(name, value, positive=False) for value in excluded], child
                continue
            for terms in _interval_alternatives(name, self._cuts, indices):
                yield terms, child
            for value in explicit.get(child, []):
                yield [_raw_term(name, value, positive=True)], child


def _parse_version(text: str) -> Version | None:
    try:
        return _version(text)
    except InvalidVersion:
        return None


@functools.lru_cache(maxsize=1 << 12)
def _version(text: str) -> Version:
    return Version(text)


# -- interning and normalizing constructors ----------------------------------------------

_UNIQUE: dict[tuple[Any, ...], MarkerTree] = {}
_UNIQUE_LOCK = threading.Lock()
_UIDS = itertools.count()


def _intern(cls: type[MarkerTree], key: tuple[Any, ...], fields: dict[str, object]) -> MarkerTree:
    node = _UNIQUE.get(key)
    if node is None:
        with _UNIQUE_LOCK:
            node = _UNIQUE.get(key)
            if node is None:
                node = object.__new__(cls)
                for name, value in fields.items():
                    object.__setattr__(node, name, value)
                object.__setattr__(node, "_uid", next(_UIDS))
                object.__setattr__(node, "_neg", None)
                object.__setattr__(node, "_text", None)
                _UNIQUE[key] = node
    return node


def _terminal(name: str) -> MarkerTree:
    return _intern(_Terminal, ("terminal", name), {"_var": _TERMINAL_VAR})


TRUE: MarkerTree = _terminal("true")
"""The marker every environment satisfies (no marker at all)."""
FALSE: MarkerTree = _terminal("false")
"""The marker no environment satisfies."""


def _mk_bool(var: _Var, hi: MarkerTree, lo: MarkerTree) -> MarkerTree:
    if var[1] == _CONTAINS:
        # Containing this literal means containing each of its substrings,
        # which come later in the order: decide them here, once. The test is
        # then redundant when the other branch, so decided, is this one.
        hi = _force_substrings(hi, var[0], var[3])
        if hi is _force_substrings(lo, var[0], var[3]):
            return lo
    if hi is lo:
        return hi
    return _intern(_BoolNode, (_BoolNode, var, hi, lo), {"_var": var, "_hi": hi, "_lo": lo})


def _mk_strings(var: _Var, explicit: Mapping[str, MarkerTree], other: MarkerTree) -> MarkerTree:
    kept = _specialized(var[0], explicit, other)
    if not kept:
        return other
    items = tuple(sorted(kept.items()))
    return _intern(
        _StringNode,
        (_StringNode, var, items, other),
        {"_var": var, "_explicit": items, "_lookup": dict(items), "_other": other},
    )


def _mk_versions(
    var: _Var,
    cuts: Iterable[_Cut],
    children: Iterable[MarkerTree],
    explicit: Mapping[str, MarkerTree],
    other: MarkerTree | None,
) -> MarkerTree:
    children = iter(children)
    kept_children = [next(children)]
    kept_cuts: list[_Cut] = []
    for cut, child in zip(cuts, children, strict=True):
        if child is not kept_children[-1]:
            kept_cuts.append(cut)
            kept_children.append(child)
    kept = {} if other is None else _specialized(var[0], explicit, other)
    if not kept_cuts and not kept and (other is None or kept_children[0] is other):
        return kept_children[0]
    items = tuple(sorted(kept.items()))
    cut_tuple, child_tuple = tuple(kept_cuts), tuple(kept_children)
    return _intern(
        _VersionNode,
        (_VersionNode, var, cut_tuple, child_tuple, items, other),
        {
            "_var": var,
            "_cuts": cut_tuple,
            "_keys": tuple(cut.key for cut in cut_tuple),
            "_children_": child_tuple,
            "_explicit": items,
            "_lookup": dict(items),
            "_other": other,
        },
    )


def _specialized(rank: int, explicit: Mapping[str, MarkerTree], other: MarkerTree) -> dict[str, MarkerTree]:
    """The explicit children with their variable's opaque atoms decided, minus those ``other`` gives."""
    kept = {}
    for value, child in explicit.items():
        child = _specialize(child, rank, value)
        if child is not _specialize(other, rank, value):
            kept[value] = child
    return kept


_SPECIALIZE_MEMO: dict[tuple[int, str], MarkerTree] = {}


def _specialize(node: MarkerTree, rank: int, value: str) -> MarkerTree:
    """``node`` with the opaque atoms on variable ``rank`` decided for the string ``value``."""
    var = node._var
    if var[0] != rank or var[1] == _SCALAR:
        return node
    key = (node._uid, value)
    result = _SPECIALIZE_MEMO.get(key)
    if result is None:
        assert isinstance(node, _BoolNode)
        holds = var[3] in value if var[1] == _CONTAINS else _OPAQUE[var[3]].holds_for(value)
        result = _specialize(node._hi if holds else node._lo, rank, value)
        _remember(_SPECIALIZE_MEMO, key, result)
    return result


_FORCE_MEMO: dict[tuple[int, str], MarkerTree] = {}


def _force_substrings(node: MarkerTree, rank: int, literal: str) -> MarkerTree:
    """``node`` where every containment test of a substring of ``literal`` holds."""
    var = node._var
    if var[0] != rank or var[1] != _CONTAINS:
        return node
    key = (node._uid, literal)
    result = _FORCE_MEMO.get(key)
    if result is None:
        assert isinstance(node, _BoolNode)
        if var[3] in literal:
            result = _force_substrings(node._hi, rank, literal)
        else:
            hi = _force_substrings(node._hi, rank, literal)
            result = _mk_bool(var, hi, _force_substrings(node._lo, rank, literal))
        _remember(_FORCE_MEMO, key, result)
    return result


def _merge_cuts(a: tuple[_Cut, ...], b: tuple[_Cut, ...]) -> tuple[list[_Cut], list[tuple[int, int]]]:
    """All cuts of ``a`` and ``b`` in order, and for each interval the intervals of ``a`` and ``b`` it lies in."""
    cuts: list[_Cut] = []
    pairs = [(0, 0)]
    i = j = 0
    while i < len(a) or j < len(b):
        if j == len(b) or (i < len(a) and a[i].key < b[j].key):
            cuts.append(a[i])
            i += 1
        elif i == len(a) or b[j].key < a[i].key:
            cuts.append(b[j])
            j += 1
        else:
            cuts.append(a[i])
            i += 1
            j += 1
        pairs.append((i, j))
    return cuts, pairs


# -- operations ---------------------------------------------------------------------------

_AND, _OR = 0, 1
_APPLY_MEMO: dict[tuple[int, int, int], MarkerTree] = {}
#: Operation caches are only caches: past this many entries they start over.
_MEMO_LIMIT = 1 << 18


def _remember(memo: dict[Any, MarkerTree], key: Any, value: MarkerTree) -> None:
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = value


def _apply(op: int, a: MarkerTree, b: MarkerTree) -> MarkerTree:
    if a is b:
        return a
    absorbing, neutral = (FALSE, TRUE) if op == _AND else (TRUE, FALSE)
    if a is absorbing or b is absorbing or a._neg is b:
        return absorbing
    if a is neutral:
        return b
    if b is neutral:
        return a
    ua, ub = a._uid, b._uid
    key = (op, ua, ub) if ua < ub else (op, ub, ua)
    result = _APPLY_MEMO.get(key)
    if result is None:
        if a._var < b._var:
            result = a._map(lambda child: _apply(op, child, b))
        elif b._var < a._var:
            result = b._map(lambda child: _apply(op, a, child))
        else:
            result = a._combine(b, lambda x, y: _apply(op, x, y))
        _remember(_APPLY_MEMO, key, result)
    return result


def _negate(node: MarkerTree) -> MarkerTree:
    result = node._neg
    if result is None:
        if node is TRUE:
            result = FALSE
        elif node is FALSE:
            result = TRUE
        else:
            result = node._map(_negate)
        object.__setattr__(node, "_neg", result)
        object.__setattr__(result, "_neg", node)
    return result


def _exists(node: MarkerTree) -> MarkerTree:
    """Whether some value of ``node``'s first variable satisfies it: its children or-ed."""
    result = FALSE
    for child in node._children():
        result = _apply(_OR, result, child)
    return result


def _restrict(value: MarkerTree, context: MarkerTree, memo: dict[tuple[int, int], MarkerTree]) -> MarkerTree:
    """``value`` simplified where ``context`` holds (see :meth:`MarkerTree.simplify_under`)."""
    if context is TRUE or isinstance(value, _Terminal):
        return value
    if context is FALSE:
        return FALSE
    if value is context:
        return TRUE
    if value._neg is context:
        return FALSE
    key = (value._uid, context._uid)
    result = memo.get(key)
    if result is not None:
        return result

    def again(v: MarkerTree, c: MarkerTree) -> MarkerTree:
        return _restrict(v, c, memo)

    if value._var < context._var:
        result = value._map(lambda child: again(child, context))
    elif context._var < value._var:
        # The value does not look at the context's variable: any of its values will do.
        result = again(value, _exists(context))
    elif isinstance(value, _BoolNode):
        assert isinstance(context, _BoolNode)
        result = _restrict_bool(value, context, again)
    elif isinstance(value, _StringNode):
        assert isinstance(context, _StringNode)
        result = _restrict_strings(value, context, again)
    else:
        assert isinstance(value, _VersionNode) and isinstance(context, _VersionNode)
        result = _restrict_versions(value, context, again)
    memo[key] = result
    return result


_Again = Callable[[MarkerTree, MarkerTree], MarkerTree]


def _restrict_bool(value: _BoolNode, context: _BoolNode, again: _Again) -> MarkerTree:
    if context._hi is FALSE:
        return again(value._lo, context._lo)
    if context._lo is FALSE:
        return again(value._hi, context._hi)
    # One branch may serve both where the context allows: under "never
    # both", ``'cpu' not in extras and 'cu124' in extras`` is ``'cu124' in extras``.
    either = context._hi | context._lo
    if _agree(value._lo, value._hi, context._hi):
        return again(value._lo, either)
    if _agree(value._hi, value._lo, context._lo):
        return again(value._hi, either)
    return _mk_bool(value._var, again(value._hi, context._hi), again(value._lo, context._lo))


def _agree(first: MarkerTree, second: MarkerTree, where: MarkerTree) -> bool:
    """Whether *first* and *second* hold in the same environments of *where*."""
    return (where & first & ~second).is_false and (where & ~first & second).is_false


def _reachable_strings(
    value: _StringNode | _VersionNode, context: _StringNode | _VersionNode, again: _Again
) -> tuple[dict[str, MarkerTree], MarkerTree | None]:
    """The explicit strings the context reaches, restricted, and the rest (``None``: unreached)."""
    assert value._other is not None and context._other is not None
    explicit = {}
    for key in value._lookup.keys() | context._lookup.keys():
        reached = context._get(key)
        if reached is not FALSE:
            explicit[key] = again(value._get(key), reached)
    other = None if context._other is FALSE else again(value._other, context._other)
    return explicit, other


def _fill(children: Iterable[MarkerTree], preferred: MarkerTree) -> MarkerTree | None:
    """The child to give strings the context never reaches: ``preferred`` (what the
    tree gave them) when some reached string has it too, else the most common."""
    counts = collections.Counter(children)
    if preferred in counts:
        return preferred
    return max(counts, key=counts.__getitem__) if counts else None


def _restrict_strings(value: _StringNode, context: _StringNode, again: _Again) -> MarkerTree:
    explicit, other = _reachable_strings(value, context, again)
    if other is None:
        # No other string is possible: say whatever lets most explicit ones go.
        other = _fill((explicit[key] for key in sorted(explicit)), value._other)
        if other is None:
            return FALSE
    return _mk_strings(value._var, explicit, other)


def _restrict_versions(value: _VersionNode, context: _VersionNode, again: _Again) -> MarkerTree:
    cuts, pairs = _merge_cuts(value._cuts, context._cuts)
    children: list[MarkerTree | None] = []
    for i, j in pairs:
        reached = context._children_[j]
        children.append(None if reached is FALSE else again(value._children_[i], reached))
    explicit: dict[str, MarkerTree] = {}
    other: MarkerTree | None = None
    if value._other is not None and context._other is not None:
        explicit, other = _reachable_strings(value, context, again)
    if all(child is None for child in children):
        if not explicit and other is None:
            return FALSE
        fill = other if other is not None else _fill((explicit[key] for key in sorted(explicit)), value._other)
        children = [fill] * len(children)
    filled = _fill_unreached(children)
    if value._other is not None and other is None:
        other = _fill(filled, value._other)
    return _mk_versions(value._var, cuts, filled, explicit, other)


def _fill_unreached(children: list[MarkerTree | None]) -> list[MarkerTree]:
    """Each unreached interval takes its lower neighbour's child (the upper one's at the start).

    Extending a neighbour removes a cut instead of adding one.
    """
    filled: list[MarkerTree] = []
    first = next(child for child in children if child is not None)
    for child in children:
        if child is None:
            child = filled[-1] if filled else first
        filled.append(child)
    return filled


# -- atoms -----------------------------------------------------------------------------------


class _Opaque(NamedTuple):
    """An atom evaluated by ``packaging`` itself."""

    marker: Marker
    name: str
    negation: str | None

    def holds_for(self, value: str) -> bool:
        return self.marker.evaluate({self.name: value})

    def holds(self, values: _Values) -> bool:
        return self.marker.evaluate(values.for_packaging())


_OPAQUE: dict[str, _Opaque] = {}


def _opaque(name: str, text: str, negation: str | None) -> MarkerTree:
    """A boolean variable for the atom ``text`` on variable ``name``, whose negation is ``negation``.

    An atom and its negation are one variable, named by the one with the
    positive operator (``==``, ``in``), so that each reads back as the other's
    complement.
    """
    positive = negation is None or " != " in negation or " not in " in negation
    key = text if positive else negation
    assert key is not None
    if key not in _OPAQUE:
        _OPAQUE[key] = _Opaque(Marker(key), name, negation if positive else text)
    var = (_VARIABLES[name].rank, _OPAQUE_ATOM, 0, key)
    return _mk_bool(var, TRUE, FALSE) if positive else _mk_bool(var, FALSE, TRUE)


def _flag(name: str, key: str, positive: bool) -> MarkerTree:
    var = (_VARIABLES[name].rank, _SCALAR, 0, key)
    return _mk_bool(var, TRUE, FALSE) if positive else _mk_bool(var, FALSE, TRUE)


def _constant(value: bool) -> MarkerTree:
    return TRUE if value else FALSE


def _quote(value: str) -> str:
    """``value`` as a marker literal that ``packaging`` reads back unchanged."""
    plain = value.isprintable() and "\\" not in value
    if plain and "'" not in value:
        return f"'{value}'"
    if plain and '"' not in value:
        return f'"{value}"'
    escaped = "".join(c if c.isprintable() and c not in "\\\"'" else f"\\U{ord(c):08x}" for c in value)
    return f'"{escaped}"'


_NEGATED_OP = {"==": "!=", "!=": "==", "in": "not in", "not in": "in"}


@functools.lru_cache(maxsize=1 << 12)
def _atom(name: str, op: str, literal: str, reversed_: bool) -> MarkerTree:
    """The tree of one comparison: ``name op literal``, or ``literal op name`` when ``reversed_``."""
    kind = _VARIABLES[name].kind
    if kind == _STRING:
        return _string_atom(name, op, literal, reversed_)
    if kind == _EXTRA:
        return _extra_atom(op, literal)
    if kind == _SET:
        return _set_atom(name, op, literal, reversed_)
    if reversed_:
        return _reversed_version_atom(name, op, literal)
    if kind == _PYTHON_VERSION:
        return _python_version_atom(op, literal)
    return _version_atom(name, op, literal)


def _undefined(name: str, op: str, literal: str, why: str) -> MarkerError:
    return MarkerError(f"marker comparison {name} {op} {_quote(literal)} cannot be evaluated: {why}")


def _string_atom(name: str, op: str, literal: str, reversed_: bool) -> MarkerTree:
    # packaging compares these variables as plain strings, either way round:
    # "<=" and ">=" mean "==", "<" and ">" never hold.
    if op in ("==", "<=", ">="):
        return _strings(name, {literal}, True)
    if op == "!=":
        return _strings(name, {literal}, False)
    if op in ("<", ">"):
        return FALSE
    if op in ("in", "not in"):
        positive = op == "in"
        if reversed_:
            return _contains(name, literal, positive)
        return _strings(name, _substrings(literal), positive)
    raise _undefined(name, op, literal, f"{op} needs versions")


def _strings(name: str, values: Iterable[str], positive: bool) -> MarkerTree:
    inside, outside = (TRUE, FALSE) if positive else (FALSE, TRUE)
    var = (_VARIABLES[name].rank, _SCALAR, 0, "")
    return _mk_strings(var, dict.fromkeys(values, inside), outside)


def _contains(name: str, literal: str, positive: bool) -> MarkerTree:
    if not literal:
        return _constant(positive)  # every string contains ""
    var = (_VARIABLES[name].rank, _CONTAINS, -len(literal), literal)
    return _mk_bool(var, TRUE, FALSE) if positive else _mk_bool(var, FALSE, TRUE)


def _substrings(text: str) -> set[str]:
    return {text[i:j] for i in range(len(text) + 1) for j in range(i, len(text) + 1)}


def _extra_atom(op: str, literal: str) -> MarkerTree:
    if op not in ("==", "!="):
        raise _undefined("extra", op, literal, "extra can only be compared with == or !=")
    extra = canonicalize_name(literal)
    if not extra:
        # `extra == ''` holds when no extra is selected: not a name of its own.
        text = f"extra {op} ''"
        return _opaque("extra", text, f"extra {_NEGATED_OP[op]} ''")
    return _flag("extra", extra, op == "==")


def _set_atom(name: str, op: str, literal: str, reversed_: bool) -> MarkerTree:
    if not reversed_:
        raise _undefined(name, op, literal, f"{name} is a set: write '<name>' in {name}")
    if op in ("in", "not in"):
        return _flag(name, canonicalize_name(literal), op == "in")
    if op in ("~=", "==="):
        raise _undefined(name, op, literal, f"{name} is a set: write '<name>' in {name}")
    # packaging compares the string with the set itself: never equal.
    return _constant(op == "!=")


def _valid_specifier(op: str, literal: str) -> Specifier | None:
    try:
        return Specifier(f"{op}{literal}")
    except InvalidSpecifier:
        return None


def _reversed_version_atom(name: str, op: str, literal: str) -> MarkerTree:
    # packaging reads `'3.8' < python_version` as `Specifier('<' + value).contains('3.8')`:
    # no set of versions with this module's cuts says exactly that.
    if op in ("~=", "==="):
        # Undefined for the values that make no such specifier ("~= 3").
        raise _undefined(name, op, literal, f"write {name} on the left of {op}")
    negation = None
    if op in ("in", "not in") or (op in ("==", "!=") and _parse_version(literal) is not None):
        negation = f"{_quote(literal)} {_NEGATED_OP[op]} {name}"
    if op in ("in", "not in") and name != "python_version":
        return _contains(name, literal, op == "in")
    return _opaque(name, f"{_quote(literal)} {op} {name}", negation)


def _version_atom(name: str, op: str, literal: str) -> MarkerTree:
    loose = _VARIABLES[name].kind == _LOOSE_VERSION
    specifier = None if op in ("in", "not in") else _valid_specifier(op, literal)
    if specifier is None:
        return _version_fallback(name, op, literal, loose)
    text = f"{name} {op} {_quote(literal)}"
    public = _parse_version(literal.removesuffix(".*"))
    if op == "===" or public is None or public.local is not None:
        negation = text.replace(f" {op} ", f" {_NEGATED_OP[op]} ", 1) if op in ("==", "!=") and not loose else None
        return _opaque(name, text, negation)
    cuts, flags = _cells(specifier, public)
    var = (_VARIABLES[name].rank, _SCALAR, 0, "")
    # packaging's version comparisons never hold for a value that is not a version.
    return _mk_versions(var, cuts, map(_constant, flags), {}, FALSE if loose else None)


def _version_fallback(name: str, op: str, literal: str, loose: bool) -> MarkerTree:
    """A comparison ``packaging`` makes between strings, the literal not being a specifier."""
    text = f"{name} {op} {_quote(literal)}"
    if op in ("in", "not in"):
        # A substring of the literal: a set of spellings, not of versions.
        return _opaque(name, text, f"{name} {_NEGATED_OP[op]} {_quote(literal)}")
    if op in ("<", ">"):
        return FALSE
    if op in ("~=", "==="):
        raise _undefined(name, op, literal, f"{literal!r} is not a version")
    positive = op != "!="
    if _parse_version(literal) is not None:
        return _opaque(name, text, None)  # one spelling of a version, not the version
    if not loose:
        return _constant(not positive)  # valid versions are never this string
    if _valid_specifier("==", literal) is not None:
        # A cell of its own only for a string "==" and "!=" compare as a string too.
        return _opaque(name, text, None)
    var = (_VARIABLES[name].rank, _SCALAR, 0, "")
    inside, outside = (TRUE, FALSE) if positive else (FALSE, TRUE)
    return _mk_versions(var, (), [outside], {literal: inside}, outside)


def _cells(specifier: Specifier, version: Version) -> tuple[list[_Cut], list[bool]]:
    """The cuts of the versions that satisfy ``specifier``, and whether each interval does."""
    ranges = from_specifier(specifier)
    candidates = sorted(_candidate_cuts(version), key=lambda cut: cut.key)
    depth = 1 + max(len(cut.version.release) for cut in candidates)
    flags: list[bool | None] = []
    for index in range(len(candidates) + 1):
        lower = candidates[index - 1] if index else None
        upper = candidates[index] if index < len(candidates) else None
        probe = _representative(lower, upper, depth)
        flags.append(None if probe is None else ranges.contains(probe))
    # An interval with no version in it takes its neighbour's answer.
    known = [flag for flag in flags if flag is not None]
    last = known[0]
    resolved = []
    for flag in flags:
        last = last if flag is None else flag
        resolved.append(last)
    cuts: list[_Cut] = []
    merged = [resolved[0]]
    for cut, flag in zip(candidates, resolved[1:], strict=True):
        if flag != merged[-1]:
            cuts.append(cut)
            merged.append(flag)
    return cuts, merged


def _python_version_atom(op: str, literal: str) -> MarkerTree:
    """``python_version op literal`` as a set of ``python_full_version`` values."""
    if op in ("in", "not in"):
        # Substring semantics: the "X.Y" values the literal contains.
        pairs = {pair for text in _substrings(literal) if (pair := _pair(text)) is not None}
        return _minor_series(pairs, op == "in")
    specifier = _valid_specifier(op, literal)
    if specifier is None or op == "===":
        if specifier is None and op in ("~=", "==="):
            raise _undefined("python_version", op, literal, f"{literal!r} is not a version")
        # Equality with the "X.Y" string itself (=== ignores case, and digits have none).
        if op in ("<", ">"):
            return FALSE
        pair = _pair(literal)
        return _minor_series({pair} if pair else set(), op != "!=")
    ranges = from_specifier(specifier)
    # Every boundary the specifier draws lies between the start of X.Y and the
    # start of X+1, where X.Y are its first two release numbers: the series
    # below X.Y, X.Y itself, X.Y+1 and above, and X+1 and above each answer
    # as one.
    major, minor = (*Version(literal.removesuffix(".*")).release, 0)[:2]
    starts = [(major, minor), (major, minor + 1), (major + 1, 0)]
    flags = [ranges.contains(Version(f"{x}.{y}")) for x, y in starts]
    if minor or major:
        below = (major, minor - 1) if minor else (major - 1, 0)
        flags.insert(0, ranges.contains(Version(f"{below[0]}.{below[1]}")))
    else:
        flags.insert(0, flags[0])  # no series below 0.0
    cuts = [_cut(_first_of(start, 0)) for start in starts]
    var = (_VARIABLES["python_full_version"].rank, _SCALAR, 0, "")
    return _mk_versions(var, cuts, map(_constant, flags), {}, None)


_PAIR = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def _pair(text: str) -> tuple[int, int] | None:
    """``(X, Y)`` when ``text`` is a ``python_version`` value ``"X.Y"``."""
    match = _PAIR.fullmatch(text)
    return (int(match[1]), int(match[2])) if match else None


def _minor_series(pairs: Iterable[tuple[int, int]], positive: bool) -> MarkerTree:
    """The full versions of the minor series ``pairs`` (all others when not ``positive``)."""
    tree = FALSE
    var = (_VARIABLES["python_full_version"].rank, _SCALAR, 0, "")
    for pair in pairs:
        cuts = [_cut(_first_of(pair, 0)), _cut(_after_prefix(pair, 0))]
        tree = tree | _mk_versions(var, cuts, [FALSE, TRUE, FALSE], {}, None)
    return tree if positive else ~tree


# -- parsing ------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<paren>[()])
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<op>===|==|~=|!=|<=|>=|<|>)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


@functools.lru_cache(maxsize=1 << 14)
def _from_text(text: str) -> MarkerTree:
    try:
        Marker(text)  # packaging decides what is a marker and says what is wrong
    except InvalidMarker as exc:
        reason = str(exc).splitlines()[0]  # the rest draws a caret under the text
        raise MarkerError(f"invalid marker {text!r}: {reason}") from None
    return _Parser(text).parse()


class _Parser:
    """Recursive descent over text ``packaging`` has accepted; ``and`` binds tighter than ``or``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._tokenize(text)
        self.position = 0

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens = []
        position = 0
        while (match := _TOKEN.match(text, position)) is not None and match.lastgroup is not None:
            tokens.append((match.lastgroup, match[match.lastgroup]))
            position = match.end()
        assert not text[position:].strip(), text
        return tokens

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _next(self) -> tuple[str, str]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse(self) -> MarkerTree:
        tree = self._disjunction()
        assert self._peek() is None, self.text
        return tree

    def _disjunction(self) -> MarkerTree:
        tree = self._conjunction()
        while self._peek() == ("word", "or"):
            self._next()
            tree = tree | self._conjunction()
        return tree

    def _conjunction(self) -> MarkerTree:
        tree = self._item()
        while self._peek() == ("word", "and"):
            self._next()
            tree = tree & self._item()
        return tree

    def _item(self) -> MarkerTree:
        if self._peek() == ("paren", "("):
            self._next()
            tree = self._disjunction()
            assert self._next() == ("paren", ")"), self.text
            return tree
        left = self._operand()
        kind, op = self._next()
        if (kind, op) == ("word", "not"):
            assert self._next() == ("word", "in"), self.text
            op = "not in"
        right = self._operand()
        return _comparison(left, op, right)

    def _operand(self) -> tuple[str, str]:
        kind, text = self._next()
        if kind == "string":
            if "\\" not in text and text.isprintable():
                return "value", text[1:-1]
            return "value", str(ast.literal_eval(text))
        name = text.replace(".", "_")
        return "variable", _ALIASES.get(name, name)


def _comparison(left: tuple[str, str], op: str, right: tuple[str, str]) -> MarkerTree:
    if left[0] == right[0]:
        what = "two variables" if left[0] == "variable" else "two literals"
        raise MarkerError(f"marker comparison {left[1]} {op} {right[1]} compares {what}")
    if left[0] == "variable":
        return _atom(left[1], op, right[1], False)
    return _atom(right[1], op, left[1], True)


# -- evaluation ------------------------------------------------------------------------------


class _Values:
    """The values of an evaluation, read on demand."""

    def __init__(
        self, environment: Mapping[str, str | Iterable[str]] | None, extras: Iterable[str], groups: Iterable[str]
    ) -> None:
        self.environment = dict(environment or {})
        selected = frozenset(map(canonicalize_name, extras))
        extra = self.environment.pop("extra", None)
        if extra is not None:
            selected_extra = frozenset(map(canonicalize_name, [extra] if isinstance(extra, str) else extra))
        else:
            selected_extra = selected
        self.sets = {
            "extra": selected_extra,
            "extras": selected,
            "dependency_groups": frozenset(map(canonicalize_name, groups)),
        }
        self._defaults: Mapping[str, str] | None = None

    def _value(self, name: str) -> str:
        value = self.environment.get(name)
        if value is None and name == "python_version" and "python_full_version" in self.environment:
            version = _parse_version(self.environment["python_full_version"])
            if version is not None:
                value = ".".join(map(str, (*version.release, 0)[:2]))
        if value is None:
            if self._defaults is None:
                self._defaults = {key: str(default) for key, default in default_environment().items()}
            value = self._defaults[name]
        return value

    def string(self, var: _Var) -> str:
        return self._value(_NAME_OF_RANK[var[0]])

    def test(self, var: _Var) -> bool:
        name = _NAME_OF_RANK[var[0]]
        if var[1] == _SCALAR:
            return var[3] in self.sets[name]
        if var[1] == _CONTAINS:
            return var[3] in self._value(name)
        return _OPAQUE[var[3]].holds(self)

    def for_packaging(self) -> dict[str, Any]:
        names = [name for name, variable in _VARIABLES.items() if variable.kind not in (_EXTRA, _SET)]
        values: dict[str, Any] = {name: self._value(name) for name in names}
        values.update(self.sets)
        # The one opaque atom on ``extra`` is ``extra == ''`` (or ``!=``), which
        # only asks whether any extra is selected; packaging before 26.4 takes
        # one name there, not a set.
        values["extra"] = min(self.sets["extra"], default="")
        return values


# -- text ----------------------------------------------------------------------------------


class _Term(NamedTuple):
    """One comparison of a written conjunction, and where it goes in it."""

    display: int
    text: str


def _term(name: str, op: str, value: str) -> _Term:
    return _Term(_VARIABLES[name].display, f"{name} {op} {_quote(value)}")


def _bool_term(var: _Var, positive: bool) -> _Term:
    rank, kind, _, literal = var
    name = _NAME_OF_RANK[rank]
    display = _VARIABLES[name].display
    if kind == _OPAQUE_ATOM:
        atom = _OPAQUE[literal]
        text = literal if positive else atom.negation
        if text is None:
            raise MarkerError(f"the negation of {literal} cannot be written as a PEP 508 marker")
        return _Term(display, text)
    if name == "extra":
        return _term(name, "==" if positive else "!=", literal)
    # A containment test or a set variable: the literal comes first.
    return _Term(display, f"{_quote(literal)} {'in' if positive else 'not in'} {name}")


def _raw_term(name: str, value: str, *, positive: bool) -> _Term:
    return _term(name, "==" if positive else "!=", value)


def _cover(name: str, values: set[str], *, negated: bool) -> list[_Term]:
    """Terms for ``name`` in ``values`` (one alternative each), or not in them (all together).

    A literal whose substrings are all in ``values`` covers them with one
    ``in`` / ``not in``; the rest are ``==`` / ``!=``.
    """
    terms: list[_Term] = []
    covered: set[str] = set()
    for value in sorted(values, key=lambda text: (-len(text), text)):
        if value in covered:
            continue
        substrings = _substrings(value)
        if len(value) > 1 and substrings <= values:
            covered |= substrings
            op = "not in" if negated else "in"
            terms.append(_term(name, op, value))
        else:
            covered.add(value)
            terms.append(_term(name, "!=" if negated else "==", value))
    return terms


def _runs(indices: Iterable[int]) -> list[tuple[int, int]]:
    """Maximal runs ``(first, last)`` of consecutive interval indices."""
    runs: list[tuple[int, int]] = []
    for index in indices:
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def _interval_alternatives(name: str, cuts: tuple[_Cut, ...], indices: list[int]) -> list[list[_Term]]:
    """Conjunctions whose disjunction is the union of intervals ``indices`` (not all of them)."""
    count = len(cuts) + 1
    inside = set(indices)
    runs = _runs(indices)
    gaps = _runs(index for index in range(count) if index not in inside)
    if 0 in inside and count - 1 in inside:
        shapes = [_shape(name, cuts[first - 1], cuts[last], positive=False) for first, last in gaps]
        exclusions = [shape for shape in shapes if shape is not None]
        if len(exclusions) == len(shapes):
            return [exclusions]  # every gap is one version or one series: "!=" them
    alternatives = []
    for first, last in runs:
        lower = cuts[first - 1] if first else None
        upper = cuts[last] if last < count - 1 else None
        shape = _shape(name, lower, upper, positive=True) if lower and upper else None
        alternatives.append([shape] if shape else _bounds(name, lower, upper))
    return alternatives


def _shape(name: str, lower: _Cut | None, upper: _Cut | None, *, positive: bool) -> _Term | None:
    """``== V`` or ``== V.*`` (``!=`` when not ``positive``) for the interval, if it is one."""
    if lower is None or upper is None or lower.after_posts or upper.after_posts:
        return None
    start, end = lower.version, upper.version
    op = "==" if positive else "!="
    if end == _successor(start):
        return _term(name, op, str(start))
    if start.dev == 0 and start.pre is None and start.post is None:
        release = start.release
        while release:
            if end == _after_prefix(release, start.epoch):
                prefix = _make_version(start.epoch, release)
                return _term(name, op, f"{prefix}.*")
            if release[-1] != 0:
                break
            release = release[:-1]
    return None


def _is_minor_start(version: Version) -> bool:
    """Whether ``version`` is ``X.Y.dev0``, the first version of a minor series."""
    return version.dev == 0 and version.pre is None and version.post is None and len(version.release) <= 2


def _bounds(name: str, lower: _Cut | None, upper: _Cut | None) -> list[_Term]:
    terms = []
    if lower is not None:
        version = lower.version
        previous = _predecessor(version)
        if lower.after_posts:
            terms.append(_term(name, ">", str(version)))
        elif previous is not None and (previous.dev is not None or previous.post is not None):
            # "> V" for a dev or post release V starts right after V.
            terms.append(_term(name, ">", str(previous)))
        elif name == "python_full_version" and _is_minor_start(version):
            # ">= X.Y" would leave out X.Y.0's pre-releases; python_version does not.
            minor = ".".join(map(str, version.release[:2]))
            terms.append(_term("python_version", ">=", minor))
        else:
            terms.append(_term(name, ">=", str(version)))
    if upper is not None:
        terms.extend(_upper(name, upper))
    return terms


def _upper(name: str, cut: _Cut) -> list[_Term]:
    """Terms for the versions below ``cut``."""
    version = cut.version
    if cut.after_posts:
        # Not expressible: "<= V" also leaves out V's post-releases.
        return [_term(name, "<=", str(version))]
    previous = _predecessor(version)
    if previous is not None:
        return [_term(name, "<=", str(previous))]
    if version.dev == 0 and version.pre is None:
        # "< V" stops below V's dev and pre-releases: exactly here.
        stem = _make_version(version.epoch, version.release, None, version.post)
        return [_term(name, "<", str(stem))]
    if version.is_prerelease:
        return [_term(name, "<", str(version))]
    # Below a final or post release, its pre-releases included: "<= V" minus V itself.
    return [_term(name, "<=", str(version)), _term(name, "!=", str(version))]


def _to_text(tree: MarkerTree) -> str:
    if tree is TRUE:
        return ""
    if tree is FALSE:
        return "python_version < '0'"
    clauses: list[list[_Term]] = []
    path: list[_Term] = []

    def walk(node: MarkerTree) -> None:
        if node is TRUE:
            clauses.append(list(path))
            return
        for terms, child in node._branches():
            path.extend(terms)
            walk(child)
            del path[len(path) - len(terms) :]

    walk(tree)
    clauses = _minimize([list(dict.fromkeys(clause)) for clause in clauses], tree)
    for clause in clauses:
        clause.sort(key=lambda term: term.display)
    clauses.sort(key=lambda clause: [term.display for term in clause])
    if len(clauses) == 1:
        return " and ".join(term.text for term in clauses[0])
    return " or ".join(
        " and ".join(term.text for term in clause) if len(clause) == 1 else f"({' and '.join(t.text for t in clause)})"
        for clause in clauses
    )


def _minimize(clauses: list[list[_Term]], tree: MarkerTree) -> list[list[_Term]]:
    """Drop every term and clause the disjunction does not need, deciding with the algebra.

    A term goes when the rest of its clause still implies ``tree``; a clause
    goes when the other clauses cover it. Greedy, in order, so the result is
    irredundant (not necessarily the shortest). Only text output runs it.
    """
    if len(clauses) < 2:
        return clauses  # one path of the diagram: each term decides something
    clauses = [list(clause) for clause in clauses]
    for clause in clauses:
        for term in list(clause):
            rest = [other for other in clause if other is not term]
            if _conjunction(rest).implies(tree):
                clause.remove(term)
    kept = list(clauses)
    for clause in clauses:
        others = [other for other in kept if other is not clause]
        covered = FALSE
        for other in others:
            covered = covered | _conjunction(other)
        if _conjunction(clause).implies(covered):
            kept = others
    return kept


def _conjunction(terms: list[_Term]) -> MarkerTree:
    result = TRUE
    for term in terms:
        result = result & _from_text(term.text)
    return result
