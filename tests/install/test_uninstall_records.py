"""Uninstalling by RECORD: what is refused, and what is removed."""

from __future__ import annotations

from pathlib import Path

import pytest
from wheelkit import Env, build_wheel, snapshot, wheel_members, write_wheel

from freewheel.install import InstallError, WheelToInstall, install_wheels, uninstall
from freewheel.install.records import RecordEntry, format_record, parse_record


def test_uninstall_of_a_project_that_is_not_installed(env: Env) -> None:
    with pytest.raises(InstallError, match="nothing-here: it is not installed"):
        uninstall(env.scheme.purelib, "nothing-here")


def test_uninstall_without_record_is_refused(env: Env) -> None:
    dist_info = env.scheme.purelib / "legacy-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: legacy\nVersion: 1.0\n")
    (env.scheme.purelib / "legacy.py").write_text("")
    before = snapshot(env.root)

    with pytest.raises(InstallError, match="has no RECORD") as caught:
        uninstall(env.scheme.purelib, "legacy")

    assert caught.value.hint
    assert snapshot(env.root) == before


def test_record_listing_files_outside_the_environment_is_refused(env: Env, tmp_path: Path) -> None:
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    dist_info = env.scheme.purelib / "sneaky-1.0.dist-info"
    dist_info.mkdir()
    (env.scheme.purelib / "sneaky.py").write_text("")
    relative = Path("../../../..") / victim.relative_to(env.root.parent)
    (dist_info / "RECORD").write_text(f"sneaky.py,,\n{relative.as_posix()},,\n")
    before = snapshot(env.root)

    with pytest.raises(InstallError, match="outside the environment"):
        uninstall(env.scheme.purelib, "sneaky")

    assert victim.read_text() == "keep me"
    assert snapshot(env.root) == before


def test_uninstall_keeps_directories_other_projects_use(env: Env, bucket: Path, tmp_path: Path) -> None:
    first = build_wheel(tmp_path / "w", "shared-a", "1.0", {"shared/a.py": "", "shared_a-1.0.data/data/share/x/a": ""})
    second = build_wheel(tmp_path / "w", "shared-b", "1.0", {"shared/b.py": "", "shared_b-1.0.data/data/share/x/b": ""})
    install_wheels([WheelToInstall(first), WheelToInstall(second)], env.scheme, archive_bucket=bucket)

    removed = uninstall(env.scheme.purelib, "shared-a")

    assert env.scheme.purelib / "shared" / "a.py" in removed
    assert sorted(path.name for path in (env.scheme.purelib / "shared").iterdir()) == ["b.py"]
    assert sorted(path.name for path in (env.root / "share" / "x").iterdir()) == ["b"]


def test_a_link_inside_the_wheel_is_installed_as_a_link(env: Env, bucket: Path, tmp_path: Path) -> None:
    members = wheel_members("linky", "1.0", {"linky/__init__.py": "from .alias import X\n", "linky/real.py": "X = 7\n"})
    wheel = write_wheel(tmp_path / "w", "linky", "1.0", members, symlinks={"linky/alias.py": "real.py"})
    before = snapshot(env.root)
    install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)

    alias = env.scheme.purelib / "linky" / "alias.py"
    assert alias.is_symlink() and alias.readlink() == Path("real.py")
    assert env.run("-c", "import linky; print(linky.X)").stdout == "7\n"
    uninstall(env.scheme.purelib, "linky")
    assert {p: e for p, e in snapshot(env.root).items() if "__pycache__" not in p} == before


def test_record_text_is_sorted_csv_with_empty_fields_for_no_hash_or_size() -> None:
    entries = [RecordEntry("pkg/b.py", "sha256=abc", 3), RecordEntry("pkg-1.0.dist-info/RECORD"), RecordEntry("a,b.py", None, 0)]
    text = format_record(entries)
    assert text == '"a,b.py",,0\npkg-1.0.dist-info/RECORD,,\npkg/b.py,sha256=abc,3\n'
    assert parse_record(text, source="test") == sorted(entries, key=lambda e: e.path)


def test_record_rows_are_read_past_blank_lines() -> None:
    text = "a.py,sha256=abc,1\n\nb.py,sha512=def=,22\nc.py,,\n"
    assert parse_record(text, source="w") == [
        RecordEntry("a.py", "sha256=abc", 1), RecordEntry("b.py", "sha512=def=", 22), RecordEntry("c.py"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a.py,,\nb.py,sha256=x\n", "The RECORD of w is malformed: line 2 has 2 fields where 'path,hash,size' was expected."),
        (",sha256=x,1\n", "The RECORD of w is malformed: line 1 has 3 fields where 'path,hash,size' was expected."),
        ("a.py,md5=abc,1\n", "The RECORD of w lists a.py with the hash 'md5=abc'; only sha256 or stronger hashes are accepted."),
        ("a.py,sha256=,1\n", "The RECORD of w lists a.py with the hash 'sha256='; only sha256 or stronger hashes are accepted."),
        ("a.py,sha256,1\n", "The RECORD of w lists a.py with the hash 'sha256'; only sha256 or stronger hashes are accepted."),
        ("a.py,sha256=x,-1\n", "The RECORD of w lists a.py with the size '-1', which is not a number."),
    ],
)
def test_a_malformed_record_is_explained(text: str, message: str) -> None:
    with pytest.raises(InstallError) as caught:
        parse_record(text, source="w")
    assert caught.value.message == message


def test_two_wheels_of_a_batch_writing_one_file_the_last_wins(env: Env, bucket: Path, tmp_path: Path) -> None:
    first = build_wheel(tmp_path / "w", "clash-a", "1.0", {"clash/__init__.py": "", "clash/same.py": "WHO = 'a'\n"})
    second = build_wheel(tmp_path / "w", "clash-b", "1.0", {"clash/same.py": "WHO = 'b'\n", "clash/b.py": ""})
    install_wheels([WheelToInstall(first), WheelToInstall(second)], env.scheme, archive_bucket=bucket)

    assert env.run("-c", "from clash.same import WHO; print(WHO)").stdout == "b\n"
    # The first wheel's RECORD lists the file too: it stays with it.
    uninstall(env.scheme.purelib, "clash-b")
    assert sorted(path.name for path in (env.scheme.purelib / "clash").iterdir()) == ["__init__.py", "same.py"]
