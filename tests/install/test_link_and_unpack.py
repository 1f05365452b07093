"""Link modes, and unpacking each wheel once into the shared cache."""

from __future__ import annotations

import errno
import hashlib
import importlib
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from wheelkit import Env, build_wheel, reflinks_work, snapshot

from freewheel.install import InstallError, WheelToInstall, install_wheels, unpack

# The package re-exports the function under the module's name.
unpack_module = importlib.import_module("freewheel.install.unpack")

FILES = {"linked/__init__.py": "VALUE = 'linked'\n", "linked/data.txt": "payload\n"}
ENTRY_POINTS = "[console_scripts]\nlinked = linked:main\n"


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return build_wheel(tmp_path / "wheels", "linked", "1.0", FILES, entry_points=ENTRY_POINTS)


def installed_and_cached(env: Env, bucket: Path, wheel: Path, mode: str | None) -> tuple[Path, Path]:
    install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket, link_mode=mode)  # type: ignore[arg-type]
    (tree,) = bucket.iterdir()
    return env.scheme.purelib / "linked" / "data.txt", tree / "linked" / "data.txt"


def test_hardlink_shares_the_cached_file(env: Env, bucket: Path, wheel: Path) -> None:
    installed, cached = installed_and_cached(env, bucket, wheel, "hardlink")
    assert installed.stat().st_ino == cached.stat().st_ino
    # Files rewritten for the environment are never links into the cache.
    dist_info = env.scheme.purelib / "linked-1.0.dist-info"
    for written in (dist_info / "RECORD", dist_info / "INSTALLER", env.root / "bin" / "linked"):
        assert written.stat().st_nlink == 1


def test_copy_makes_independent_files(env: Env, bucket: Path, wheel: Path) -> None:
    installed, cached = installed_and_cached(env, bucket, wheel, "copy")
    assert installed.stat().st_ino != cached.stat().st_ino
    assert installed.read_bytes() == cached.read_bytes()


def test_symlink_points_into_the_cache(env: Env, bucket: Path, wheel: Path) -> None:
    installed, cached = installed_and_cached(env, bucket, wheel, "symlink")
    assert installed.is_symlink()
    assert installed.resolve() == cached.resolve()
    assert env.run("-c", "import linked; print(linked.VALUE)").stdout == "linked\n"


@pytest.mark.parametrize("mode", [None, "clone"])
def test_default_and_clone_link_rather_than_copy(
    mode: str | None, env: Env, bucket: Path, wheel: Path, tmp_path: Path
) -> None:
    installed, cached = installed_and_cached(env, bucket, wheel, mode)
    # A reflink is a file of its own; without reflinks, a hard link (the
    # cache and the environment share a file system here).
    shares_the_inode = installed.stat().st_ino == cached.stat().st_ino
    assert shares_the_inode != reflinks_work(tmp_path)
    assert installed.read_bytes() == cached.read_bytes()
    assert env.run("-c", "import linked; print(linked.VALUE)").stdout == "linked\n"


def test_hardlink_falls_back_to_copy_across_devices(
    env: Env, bucket: Path, wheel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cross_device(source: object, target: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    installed, cached = installed_and_cached(env, bucket, wheel, "hardlink")
    assert installed.stat().st_ino != cached.stat().st_ino
    assert installed.read_bytes() == cached.read_bytes()


def test_same_wheel_into_two_environments_is_unpacked_once(
    new_env: Callable[[str], Env], bucket: Path, wheel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extractions = []
    original = unpack_module._extract

    def counting(wheel_path: Path, destination: Path) -> object:
        extractions.append(wheel_path)
        return original(wheel_path, destination)

    monkeypatch.setattr(unpack_module, "_extract", counting)
    for name in ("one", "two"):
        env = new_env(name)
        install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)
        assert env.run("-c", "import linked").returncode == 0
    assert extractions == [wheel]


def test_unpacked_tree_is_named_by_the_wheel_hash(bucket: Path, wheel: Path) -> None:
    tree = unpack(wheel, bucket).tree
    assert tree == bucket / hashlib.sha256(wheel.read_bytes()).hexdigest()
    umask = os.umask(0)
    os.umask(umask)
    # Not the 0o700 of a temporary directory: every user of the cache reads it.
    assert stat.S_IMODE(tree.stat().st_mode) == 0o777 & ~umask
    assert (tree / "linked" / "data.txt").read_text() == "payload\n"
    assert unpack(wheel, bucket).tree == tree
    assert [path.name for path in bucket.iterdir()] == [tree.name]


# Each racer extracts, then waits until every racer has extracted before
# renaming its tree into place, so that all of them reach the rename.
_RACE = """
import os, sys, time
from pathlib import Path
from freewheel.install import unpack

wheel, bucket, barrier, racers = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
rename = os.rename

def rename_together(source, target):
    (barrier / str(os.getpid())).touch()
    while len(list(barrier.iterdir())) < racers:
        time.sleep(0.005)
    try:
        rename(source, target)
    except OSError:
        print("lost", end=" ")
        raise

os.rename = rename_together
print(unpack(wheel, bucket).tree)
"""


def test_concurrent_unpacks_agree_on_one_complete_tree(bucket: Path, tmp_path: Path) -> None:
    files = {f"racy/mod{i}.py": f"N = {i}\n" * 50 for i in range(100)}
    wheel = build_wheel(tmp_path / "wheels", "racy", "1.0", files)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    command = [sys.executable, "-c", _RACE, str(wheel), str(bucket), str(barrier), "3"]
    racers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [racer.communicate(timeout=60)[0].split() for racer in racers]

    assert [racer.returncode for racer in racers] == [0, 0, 0]
    assert sorted(output[0] for output in outputs if len(output) == 2) == ["lost", "lost"]
    trees = {output[-1] for output in outputs}
    assert len(trees) == 1
    tree = Path(trees.pop())
    assert [path.name for path in bucket.iterdir()] == [tree.name]
    unpacked = snapshot(tree)
    assert all(unpacked[path][2] == content.encode() for path, content in files.items())


def test_failed_unpack_leaves_nothing_in_the_bucket(bucket: Path, tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "wheels", "broken", "1.0", FILES)
    wheel.write_bytes(wheel.read_bytes()[:100])
    with pytest.raises(InstallError, match="not a valid zip"):
        unpack(wheel, bucket)
    assert list(bucket.iterdir()) == []


def test_an_unusable_bucket_is_a_clear_error(tmp_path: Path, wheel: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(InstallError) as caught:
        unpack(wheel, tmp_path / "file" / "bucket")
    assert caught.value.message == f"Could not unpack {wheel.name} into {tmp_path / 'file' / 'bucket'}: Not a directory."


def test_a_package_listed_after_its_subpackage_is_unpacked(bucket: Path, tmp_path: Path) -> None:
    # Writing deep/inner/mod.py makes deep/ too: deep/__init__.py, next,
    # goes into the directory that is already there.
    files = {"deep/inner/mod.py": "INNER = 1\n", "deep/__init__.py": "OUTER = 2\n"}
    wheel = build_wheel(tmp_path / "wheels", "deep", "1.0", files)
    tree = unpack(wheel, bucket).tree
    assert (tree / "deep" / "__init__.py").read_text() == "OUTER = 2\n"
    assert (tree / "deep" / "inner" / "mod.py").read_text() == "INNER = 1\n"


def test_a_wheel_holding_a_file_named_as_the_manifest_is_refused(bucket: Path, tmp_path: Path) -> None:
    files = {"sneaky/__init__.py": "", unpack_module.MANIFEST: "forged"}
    wheel = build_wheel(tmp_path / "wheels", "sneaky", "1.0", files)
    with pytest.raises(InstallError) as caught:
        unpack(wheel, bucket)
    assert caught.value.message == (
        f"{wheel.name} holds a file named {unpack_module.MANIFEST}, which freewheel keeps "
        "for its own use in the cache; it cannot be installed."
    )
    assert list(bucket.iterdir()) == []


def test_a_thorough_check_replaces_a_file_that_became_a_link(bucket: Path, wheel: Path) -> None:
    tree = unpack(wheel, bucket).tree
    data = tree / "linked" / "data.txt"
    # A link of the file's size (its target's name is 8 bytes, as is
    # "payload\n") to a file of the same content: only its type differs.
    (tree / "linked" / "data.bak").write_bytes(data.read_bytes())
    data.unlink()
    data.symlink_to("data.bak")
    assert data.lstat().st_size == len("payload\n")

    assert unpack(wheel, bucket).tree == tree and data.is_symlink()
    assert unpack(wheel, bucket, thorough=True).tree == tree
    assert not data.is_symlink() and data.read_text() == "payload\n"


def test_the_tree_the_expected_hash_names_is_used_without_reading_the_wheel(bucket: Path, wheel: Path) -> None:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    # A hash as --require-hashes may give it, in capitals.
    tree = unpack(wheel, bucket, expected_sha256=digest.upper()).tree
    assert tree == bucket / digest
    wheel.unlink()
    again = unpack(wheel, bucket, expected_sha256=digest)
    assert again.tree == tree and (tree / "linked" / "data.txt").read_text() == "payload\n"
