"""The journal under every install: undoing what was done, and only that."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from freewheel.install.transaction import Transaction


def test_a_set_aside_that_did_not_happen_undoes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = tmp_path / "keep.py"
    original.write_text("mine\n")
    transaction = Transaction(tmp_path, keep=tmp_path)

    def interrupted(source: object, target: object) -> None:
        raise KeyboardInterrupt  # after the journal entry, before the rename

    monkeypatch.setattr(os, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        transaction.set_aside(original)
    monkeypatch.undo()
    transaction.rollback()
    assert original.read_text() == "mine\n"


def test_rollback_keeps_what_others_put_in_new_directories(tmp_path: Path) -> None:
    transaction = Transaction(tmp_path, keep=tmp_path)
    transaction.make_dirs([tmp_path / "new" / "deeper"])
    (tmp_path / "new" / "someone-else.txt").write_text("theirs\n")
    transaction.rollback()
    assert (tmp_path / "new" / "someone-else.txt").read_text() == "theirs\n"
    assert not (tmp_path / "new" / "deeper").exists()


def test_rollback_restores_what_was_set_aside_and_removes_what_was_made(tmp_path: Path) -> None:
    old = tmp_path / "module.py"
    old.write_text("old\n")
    transaction = Transaction(tmp_path, keep=tmp_path)
    assert transaction.set_aside(old)
    transaction.write(old, b"new\n")
    assert not transaction.set_aside(tmp_path / "absent")
    transaction.rollback()
    assert [p.name for p in tmp_path.iterdir()] == ["module.py"]
    assert old.read_text() == "old\n"


def test_commit_deletes_what_was_set_aside(tmp_path: Path) -> None:
    old = tmp_path / "pkg"
    old.mkdir()
    (old / "a.py").write_text("")
    transaction = Transaction(tmp_path, keep=tmp_path)
    transaction.set_aside(old)
    transaction.write(tmp_path / "b.py", b"")
    assert transaction.commit() == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.py"]
    transaction.rollback()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.py"]
