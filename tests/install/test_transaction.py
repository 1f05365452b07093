"""The journal under every install: undoing what was done, and only that."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from freewheel.install.errors import InstallError
from freewheel.install.transaction import JOURNAL, Transaction, finish_interrupted, prune_empty_dirs, unfinished


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


# -- what a killed process left: finish_interrupted ---------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "env" / "lib" / "site-packages"
    site.mkdir(parents=True)
    return site


def write_journal(site: Path, *rows: list[str], tail: str = "") -> Path:
    path = site.parent.parent / JOURNAL
    path.write_text("".join(json.dumps(row) + "\n" for row in [["begin", str(site)], *rows]) + tail)
    return path


def test_no_journal_means_nothing_to_finish(site: Path) -> None:
    root = site.parent.parent
    assert unfinished(root) is None
    assert finish_interrupted(root) is None


def test_an_uncommitted_change_is_undone_newest_first(site: Path) -> None:
    root = site.parent.parent
    (site / "old.py").write_text("new\n")
    backup = site / ".old.py.freewheel-0123abcd~"
    backup.write_text("old\n")
    (site / "pkg" / "sub").mkdir(parents=True)
    (site / "pkg" / "sub" / "mod.py").write_text("")
    journal = write_journal(
        site,
        ["set aside", str(site / "old.py"), str(backup)],
        ["new", str(site / "old.py")],
        ["new dir", str(site / "pkg")],
        ["new dir", str(site / "pkg" / "sub")],
        ["new", str(site / "pkg" / "sub" / "mod.py")],
    )
    assert unfinished(root) == journal

    message = finish_interrupted(root)

    assert message == f"An interrupted change to {root} was found and undone (its journal was {journal})."
    assert sorted(p.name for p in site.iterdir()) == ["old.py"]
    assert (site / "old.py").read_text() == "old\n"
    assert unfinished(root) is None


def test_a_committed_change_is_completed(site: Path) -> None:
    root = site.parent.parent
    (site / "pkg").mkdir()
    backup = site / "pkg" / ".gone.py.freewheel-0123abcd~"
    backup.write_text("old\n")
    (site / "new.py").write_text("new\n")
    journal = write_journal(
        site,
        ["set aside", str(site / "pkg" / "gone.py"), str(backup)],
        ["new", str(site / "new.py")],
        ["commit"],
    )

    message = finish_interrupted(root)

    assert message == f"An interrupted change to {root} was found and completed (its journal was {journal})."
    # What was set aside is deleted, and the directory that leaves empty;
    # site-packages itself is kept, empty or not.
    assert sorted(p.name for p in site.iterdir()) == ["new.py"]
    assert not journal.exists()


def test_a_journal_cut_short_is_undone_up_to_its_last_whole_line(site: Path) -> None:
    (site / "x.py").write_text("new\n")
    write_journal(site, ["new", str(site / "x.py")], tail='["new", "' + str(site / "y"))
    assert "undone" in finish_interrupted(site.parent.parent)
    assert list(site.iterdir()) == []


@pytest.mark.parametrize(
    ("journal", "reason"),
    [
        ("", "it does not start as a journal does"),
        ('["new", "{site}/x.py"]\n', "it does not start as a journal does"),
        ('["begin"]\n', "it does not start as a journal does"),
        ('["begin", "{site}", "more"]\n', "it does not start as a journal does"),
        ('garbage\n["begin", "{site}"]\n', "line 1 is not a journal entry"),
        ('["begin", "{site}"]\n{{"new": "x"}}\n["commit"]\n', "line 2 is not a journal entry"),
        ('["begin", "{site}"]\n[]\n["commit"]\n', "line 2 is not a journal entry"),
        ('["begin", "{site}"]\n["new", 1]\n', "line 2 is not a journal entry"),
        ('["begin", "{site}"]\n\udcff\n["commit"]\n', "line 2 is not a journal entry"),  # not UTF-8
        ('["begin", "{site}"]\n["move", "{site}/x.py"]\n', "it holds an unknown entry ['move', '{site}/x.py']"),
        ('["begin", "{site}"]\n["new"]\n', "it holds an unknown entry ['new']"),
        ('["begin", "{site}"]\n["new dir", "{site}/a", "{site}/b"]\n',
         "it holds an unknown entry ['new dir', '{site}/a', '{site}/b']"),
        ('["begin", "{site}"]\n["set aside", "{site}/x.py"]\n', "it holds an unknown entry ['set aside', '{site}/x.py']"),
        ('["begin", "{site}"]\n["new", "{outside}"]\n', "it names {outside}, which is not the environment's to change"),
        ('["begin", "{site}"]\n["new", "x.py"]\n', "it names x.py, which is not the environment's to change"),
        ('["begin", "{site}"]\n["new", "{site}/../../../outside/precious.txt"]\n',
         "it names {site}/../../../outside/precious.txt, which is not the environment's to change"),
        ('["begin", "{site}"]\n["new", "{site}/link/precious.txt"]\n',
         "it names {site}/link/precious.txt, which is not the environment's to change"),
        ('["begin", "{site}"]\n["set aside", "{site}/x.py", "{outside}"]\n',
         "it names {site}/x.py, which is not the environment's to change"),
        ('["begin", "{site}"]\n["set aside", "{site}/x.py", "{site}/pkg/.x.py.freewheel-1~"]\n',
         "it names {site}/x.py, which is not the environment's to change"),
        ('["begin", "{site}"]\n["set aside", "{site}/x.py", "{site}/.y.py.freewheel-1~"]\n',
         "it names {site}/x.py, which is not the environment's to change"),
        ('["begin", "{site}"]\n["set aside", "{site}/x.py", "{site}/.x.py.freewheel-1"]\n',
         "it names {site}/x.py, which is not the environment's to change"),
    ],
)
def test_a_journal_that_cannot_be_trusted_changes_nothing(site: Path, journal: str, reason: str) -> None:
    root = site.parent.parent
    outside = root.parent / "outside" / "precious.txt"
    outside.parent.mkdir()
    outside.write_text("keep me")
    (site / "link").symlink_to(outside.parent)
    path = root / JOURNAL
    path.write_bytes(journal.format(site=site, outside=outside).encode("utf-8", "surrogateescape"))

    with pytest.raises(InstallError) as caught:
        finish_interrupted(root)

    reason = reason.format(site=site, outside=outside)
    assert caught.value.message == f"The journal {path} of an interrupted change cannot be used: {reason}. Nothing was changed."
    assert caught.value.hint == "check the environment, then remove that file, or recreate the environment"
    assert outside.read_text() == "keep me"
    assert path.exists()


def test_an_unreadable_journal_is_explained(site: Path) -> None:
    root = site.parent.parent
    (root / JOURNAL).mkdir()
    with pytest.raises(InstallError) as caught:
        finish_interrupted(root)
    assert caught.value.message == (
        f"The journal {root / JOURNAL} of an interrupted change cannot be used: "
        f"{os.strerror(errno.EISDIR)}. Nothing was changed."
    )


def test_one_change_at_a_time(tmp_path: Path) -> None:
    first = Transaction(tmp_path, keep=tmp_path)
    with pytest.raises(InstallError) as caught:
        Transaction(tmp_path, keep=tmp_path)
    assert caught.value.message == (
        f"The environment {tmp_path} is being changed by another freewheel command, "
        f"or one was interrupted: its journal {tmp_path / JOURNAL} exists."
    )
    assert caught.value.hint == (
        "run the command again: a freewheel command that changes the environment "
        "first completes or undoes an interrupted change"
    )
    first.rollback()
    Transaction(tmp_path, keep=tmp_path).rollback()


def test_commit_removes_the_directories_it_leaves_empty_but_keeps_site_packages(site: Path) -> None:
    root = site.parent.parent
    (site / "pkg" / "sub").mkdir(parents=True)
    (site / "pkg" / "sub" / "mod.py").write_text("")
    transaction = Transaction(root, keep=site)
    transaction.set_aside(site / "pkg" / "sub" / "mod.py")
    assert transaction.commit() == [site / "pkg" / "sub" / "mod.py"]
    assert site.is_dir() and list(site.iterdir()) == []
    assert not (root / JOURNAL).exists()


def test_the_journal_a_killed_command_leaves_is_what_the_next_one_undoes(site: Path) -> None:
    root = site.parent.parent
    (site / "old.py").write_text("old\n")
    transaction = Transaction(root, keep=site)
    transaction.make_dirs([site / "pkg"])
    transaction.write(site / "pkg" / "new.py", b"")
    transaction.set_aside(site / "old.py")
    (backup,) = site.glob(".old.py.freewheel-*~")
    rows = [json.loads(line) for line in (root / JOURNAL).read_text().split("\n")[:-1]]
    assert rows == [
        ["begin", str(site)],
        ["new dir", str(site / "pkg")],
        ["new", str(site / "pkg" / "new.py")],
        ["set aside", str(site / "old.py"), str(backup)],
    ]

    # The command is killed here; the next one finds the journal.
    assert "undone" in finish_interrupted(root)
    assert sorted(p.name for p in site.iterdir()) == ["old.py"]
    assert (site / "old.py").read_text() == "old\n"
    transaction.rollback()  # closes the journal's file


def test_files_written_are_executable_only_when_asked(tmp_path: Path) -> None:
    transaction = Transaction(tmp_path, keep=tmp_path)
    transaction.write(tmp_path / "module.py", b"")
    transaction.write(tmp_path / "script", b"#!python\n", executable=True)
    transaction.commit()
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "module.py").stat().st_mode & 0o111 == 0
    assert (tmp_path / "script").stat().st_mode & 0o777 == 0o777 & ~umask


def test_pruning_goes_on_past_a_directory_still_in_use(site: Path) -> None:
    (site / "used" / "deeper").mkdir(parents=True)
    (site / "used" / "deeper" / "theirs.py").write_text("")
    (site / "empty").mkdir()
    prune_empty_dirs([site / "used" / "deeper", site / "empty"], keep=site, prefix=site.parent.parent)
    assert [p.name for p in site.iterdir()] == ["used"]
    assert (site / "used" / "deeper" / "theirs.py").exists()


def test_rollback_undoes_every_batch_of_directories_and_files(tmp_path: Path) -> None:
    old = tmp_path / "old.py"
    old.write_text("old\n")
    transaction = Transaction(tmp_path, keep=tmp_path)
    transaction.write(tmp_path / "first.py", b"")
    assert transaction.set_aside(old)
    # Two directories, each with a parent to make, in one batch.
    planned = transaction.plan_dirs([tmp_path / "a" / "x", tmp_path / "b" / "y"])
    assert planned == [str(tmp_path / p) for p in ("a", "a/x", "b", "b/y")]
    assert transaction.made(str(tmp_path / "b" / "y")) and not transaction.made(str(tmp_path))
    # Another thread of the install made one of them first.
    os.mkdir(tmp_path / "a")
    transaction.create_dirs(planned)
    files = [str(tmp_path / "a" / "x" / "m.py"), str(tmp_path / "b" / "y" / "n.py")]
    transaction.will_create_all(files)
    for file in files:
        Path(file).write_text("")
    transaction.write(tmp_path / "last.py", b"")

    transaction.rollback()

    assert [p.name for p in tmp_path.iterdir()] == ["old.py"]
    assert old.read_text() == "old\n"


def test_a_batch_of_files_is_journalled_for_the_next_command_to_undo(site: Path) -> None:
    root = site.parent.parent
    transaction = Transaction(root, keep=site)
    files = [str(site / "a.py"), str(site / "b.py")]
    transaction.will_create_all(files)
    transaction.will_create_all([])
    for file in files:
        Path(file).write_text("")
    rows = [json.loads(line) for line in (root / JOURNAL).read_text().split("\n")[:-1]]
    assert rows == [["begin", str(site)], ["new", files[0]], ["new", files[1]]]

    # The command is killed here.
    assert "undone" in finish_interrupted(root)
    assert list(site.iterdir()) == []
    transaction.rollback()  # closes the journal's file
