"""A selection of a lock is a lock of its own: what ``export --format
pylock.toml`` writes, as uv does, for one choice of extras and groups."""

from __future__ import annotations

import tomllib

from packaging.pylock import Pylock

from freewheel.lock.pylock import dumps
from freewheel.lock.selection import select

from .graphs import project_graph
from .test_pylock import LINUX_39, LINUX_TAGS


def test_a_selection_is_written_without_extras_or_groups():
    text = dumps(select(project_graph(), extras=["cpu"], groups=[]))
    lock = Pylock.from_dict(tomllib.loads(text))
    lock.validate()
    assert "extras" not in text and "dependency_groups" not in text
    chosen = {str(p.name) for p, _ in lock.select(environment=LINUX_39, tags=LINUX_TAGS)}
    assert chosen == {"alpha", "beta", "delta", "gamma", "proj"}
