"""Hostile and damaged wheels are refused before the environment changes,
and an interrupted install leaves nothing behind."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import warnings
import zipfile
from pathlib import Path

import pytest
from wheelkit import Env, build_wheel, record_hash, snapshot, wheel_members, write_wheel

from freewheel.errors import FreewheelError
from freewheel.install import (
    InstallError,
    Linker,
    WheelToInstall,
    install_wheels,
    unpack,
)
from freewheel.install.records import encode_digest
from freewheel.install.wheelfile import (
    find_dist_info,
    parse_wheel_metadata,
    unsafe_path_reason,
)

GOOD_FILES = {"safe/__init__.py": "X = 1\n"}


def members(**files: str) -> dict[str, bytes]:
    return wheel_members("safe", "1.0", {**GOOD_FILES, **files})


def zip_slip(directory: Path) -> Path:
    return write_wheel(directory, "safe", "1.0", members(**{"../../evil.py": "boom"}))


def absolute_path(directory: Path) -> Path:
    return write_wheel(directory, "safe", "1.0", members(**{str(directory / "evil.py"): "boom"}))


def drive_letter(directory: Path) -> Path:
    return write_wheel(directory, "safe", "1.0", members(**{"C:/evil.py": "boom"}))


def escaping_symlink(directory: Path) -> Path:
    return write_wheel(directory, "safe", "1.0", members(), symlinks={"safe/escape": "../../../../.."})


def root_symlink_into_data(directory: Path) -> Path:
    # At the root, "safe-1.0.data/..." descends lexically, but the .data
    # directory is not installed where the link is.
    return write_wheel(directory, "safe", "1.0", members(), symlinks={"escape": "safe-1.0.data/scripts/x"})


def hash_mismatch(directory: Path) -> Path:
    content = members()
    record = "".join(f"{p},{record_hash(d)},{len(d)}\n" for p, d in content.items())
    content["safe/__init__.py"] = b"X = 2\n"
    return write_wheel(directory, "safe", "1.0", content, record=record + "safe-1.0.dist-info/RECORD,,\n")


def size_mismatch(directory: Path) -> Path:
    content = members()
    record = "".join(f"{p},{record_hash(d)},{len(d) + (p == 'safe/__init__.py')}\n" for p, d in content.items())
    return write_wheel(directory, "safe", "1.0", content, record=record + "safe-1.0.dist-info/RECORD,,\n")


def file_not_in_record(directory: Path) -> Path:
    return write_wheel(directory, "safe", "1.0", members(), unlisted={"safe/extra.py": b""})


def record_lists_missing_file(directory: Path) -> Path:
    content = members()
    record = "".join(f"{p},{record_hash(d)},{len(d)}\n" for p, d in content.items())
    record += f"safe/ghost.py,{record_hash(b'')},0\nsafe-1.0.dist-info/RECORD,,\n"
    return write_wheel(directory, "safe", "1.0", content, record=record)


def truncated(directory: Path) -> Path:
    path = write_wheel(directory, "safe", "1.0", members(**{"safe/big.bin": "x" * 5000}))
    path.write_bytes(path.read_bytes()[:-200])
    return path


def script_name_escapes(directory: Path) -> Path:
    content = wheel_members(
        "safe", "1.0", GOOD_FILES, entry_points="[console_scripts]\n../../evil = safe:main\n"
    )
    return write_wheel(directory, "safe", "1.0", content)


def wheel_format_2(directory: Path) -> Path:
    content = members()
    content["safe-1.0.dist-info/WHEEL"] = b"Wheel-Version: 2.0\nRoot-Is-Purelib: true\n"
    return write_wheel(directory, "safe", "1.0", content)


def wrong_dist_info(directory: Path) -> Path:
    content = {path.replace("safe-1.0.dist-info", "other-1.0.dist-info"): data for path, data in members().items()}
    record = "".join(f"{p},{record_hash(d)},{len(d)}\n" for p, d in content.items())
    path = write_wheel(directory, "other", "1.0", content, record=record)
    return path.rename(directory / "safe-1.0-py3-none-any.whl")


def link_hash_mismatch(directory: Path) -> Path:
    content = members()
    record = "".join(f"{p},{record_hash(d)},{len(d)}\n" for p, d in content.items())
    record += f"safe/alias.py,{record_hash(b'elsewhere.py')},11\nsafe-1.0.dist-info/RECORD,,\n"
    return write_wheel(directory, "safe", "1.0", content, record=record, symlinks={"safe/alias.py": "__init__.py"})


def foreign_data_dir(directory: Path) -> Path:
    return write_wheel(directory, "safe", "1.0", members(**{"other-1.0.data/scripts/x": "#!python\n"}))


def foreign_data_dir_file(directory: Path) -> Path:
    return write_wheel(directory, "safe", "1.0", members(**{"other-1.0.data/x": "#!python\n"}))


def unknown_category(directory: Path) -> Path:
    return write_wheel(directory, "safe", "1.0", members(**{"safe-1.0.data/etc/passwd": "x"}))


def metadata_names_another(directory: Path) -> Path:
    content = members()
    content["safe-1.0.dist-info/METADATA"] = b"Metadata-Version: 2.1\nName: other\nVersion: 1.0\n"
    return write_wheel(directory, "safe", "1.0", content)


def metadata_without_name(directory: Path) -> Path:
    content = members()
    content["safe-1.0.dist-info/METADATA"] = b"Metadata-Version: 2.1\nVersion: 1.0\n"
    return write_wheel(directory, "safe", "1.0", content)


def metadata_without_version(directory: Path) -> Path:
    content = members()
    content["safe-1.0.dist-info/METADATA"] = b"Metadata-Version: 2.1\nName: safe\n"
    return write_wheel(directory, "safe", "1.0", content)


def no_metadata(directory: Path) -> Path:
    content = members()
    del content["safe-1.0.dist-info/METADATA"]
    return write_wheel(directory, "safe", "1.0", content)


HOSTILE = {
    zip_slip: "'..'",
    absolute_path: "absolute",
    drive_letter: "drive",
    escaping_symlink: "its member safe/escape is a symbolic link to '../../../../..', which points outside where it is installed.",
    root_symlink_into_data: "its member escape is a symbolic link to 'safe-1.0.data/scripts/x'",
    hash_mismatch: "does not match the hash",
    link_hash_mismatch: (
        "safe-1.0-py3-none-any.whl is damaged or was tampered with: the content of safe/alias.py "
        "does not match the hash its RECORD gives."
    ),
    size_mismatch: "safe-1.0-py3-none-any.whl is damaged or was tampered with: safe/__init__.py is 6 bytes, but its RECORD says 7.",
    file_not_in_record: "safe-1.0-py3-none-any.whl contains files its RECORD does not list: safe/extra.py. The wheel is damaged or was tampered with.",
    record_lists_missing_file: "does not contain: safe/ghost.py",
    truncated: "safe-1.0-py3-none-any.whl is not a valid zip archive (File is not a zip file); the download may be truncated or damaged.",
    wheel_format_2: "wheel format version 2.0",
    wrong_dist_info: "other-1.0.dist-info",
    foreign_data_dir: "other-1.0.data/scripts/x",
    foreign_data_dir_file: "holds other-1.0.data/x in a .data directory that is not safe-1.0.data",
    unknown_category: (
        "safe-1.0-py3-none-any.whl holds safe-1.0.data/etc/passwd in its .data directory outside the "
        "categories a wheel may install into (purelib, platlib, scripts, headers, data)."
    ),
    metadata_names_another: "METADATA is missing or does not name safe 1.0",
    metadata_without_name: "METADATA is missing or does not name safe 1.0",
    metadata_without_version: "METADATA is missing or does not name safe 1.0",
    no_metadata: "METADATA is missing or does not name safe 1.0",
}


@pytest.mark.parametrize("make", HOSTILE, ids=lambda make: make.__name__)
def test_hostile_wheel_is_refused_and_nothing_changes(
    make, env: Env, bucket: Path, tmp_path: Path
) -> None:
    wheel = make(tmp_path / "wheels")
    before = snapshot(tmp_path)

    with pytest.raises(InstallError) as caught:
        install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)

    assert isinstance(caught.value, FreewheelError)
    assert "safe-1.0-py3-none-any.whl" in caught.value.message
    assert HOSTILE[make] in caught.value.message
    after = snapshot(tmp_path)
    # The cache bucket may now exist, but holds no tree and no leftovers.
    assert {path: entry for path, entry in after.items() if not path.startswith("cache/archives")} == before
    assert not any(path.startswith("cache/archives/") for path in after)


def test_script_name_that_is_a_path_is_refused(env: Env, bucket: Path, tmp_path: Path) -> None:
    wheel = script_name_escapes(tmp_path / "wheels")
    before = snapshot(tmp_path)
    # The archive itself is sound, so its unpacked tree may stay cached:
    # the second attempt reads it from there, and names the wheel as well.
    for _ in range(2):
        with pytest.raises(InstallError) as caught:
            install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)
        assert caught.value.message == (
            "safe-1.0-py3-none-any.whl declares a script named '../../evil'; "
            "script names cannot contain path separators."
        )
    after = snapshot(tmp_path)
    assert {path: entry for path, entry in after.items() if not path.startswith("cache/archives")} == before


def test_wrong_whole_file_hash_is_refused_first(env: Env, bucket: Path, tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "wheels", "safe", "1.0", GOOD_FILES)
    before = snapshot(env.root)
    wrong = hashlib.sha256(b"something else").hexdigest()

    with pytest.raises(InstallError, match="does not have the expected hash") as caught:
        install_wheels([WheelToInstall(wheel, expected_sha256=wrong)], env.scheme, archive_bucket=bucket)

    assert wrong in caught.value.message
    assert caught.value.hint == "if the index changed the file on purpose, update the hash you require"
    assert snapshot(env.root) == before
    assert not bucket.exists()


def test_a_bad_wheel_in_a_batch_installs_none(env: Env, bucket: Path, tmp_path: Path) -> None:
    good = build_wheel(tmp_path / "good", "fine", "1.0", {"fine.py": ""})
    bad = zip_slip(tmp_path / "bad")
    before = snapshot(env.root)
    with pytest.raises(InstallError):
        install_wheels([WheelToInstall(good), WheelToInstall(bad)], env.scheme, archive_bucket=bucket)
    assert snapshot(env.root) == before


def interrupt_after(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """Make the linker raise KeyboardInterrupt on its *count*-th file."""
    original = Linker.link
    calls = 0

    def link(self: Linker, *args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == count:
            raise KeyboardInterrupt
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Linker, "link", link)


def many_files(version: str) -> dict[str, str]:
    files = {f"many/mod{i}.py": f"V = {version!r}\n" for i in range(10)}
    files["many/__init__.py"] = f"V = {version!r}\n"
    files[f"many-{version}.data/scripts/many-tool"] = "#!python\nprint('tool')\n"
    return files


def test_interrupted_install_leaves_the_environment_unchanged(
    env: Env, bucket: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = build_wheel(
        tmp_path / "w", "many", "1.0", many_files("1.0"), entry_points="[console_scripts]\nmany = many:V\n"
    )
    before = snapshot(env.root)
    interrupt_after(monkeypatch, 5)

    with pytest.raises(KeyboardInterrupt):
        install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)

    assert snapshot(env.root) == before
    assert not list(env.scheme.purelib.glob("*many*"))


def test_interrupted_upgrade_restores_the_old_version(
    env: Env, bucket: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = build_wheel(tmp_path / "w", "many", "1.0", many_files("1.0"))
    new_files = many_files("2.0")
    new_files["many/added.py"] = ""
    new = build_wheel(tmp_path / "w", "many", "2.0", new_files)
    install_wheels([WheelToInstall(old)], env.scheme, archive_bucket=bucket)
    before = snapshot(env.root)
    interrupt_after(monkeypatch, 8)

    with pytest.raises(KeyboardInterrupt):
        install_wheels([WheelToInstall(new)], env.scheme, archive_bucket=bucket)

    assert snapshot(env.root) == before
    assert env.run("-c", "import many; print(many.V)").stdout == "1.0\n"


def test_links_that_descend_install_at_the_root_and_in_packages(env: Env, bucket: Path, tmp_path: Path) -> None:
    wheel = write_wheel(
        tmp_path / "wheels", "safe", "1.0", members(),
        symlinks={"alias.py": "safe/__init__.py", "safe/again.py": "__init__.py"},
    )
    install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)
    assert env.run("-c", "import alias, safe.again; print(alias.X, safe.again.X)").stdout == "1 1\n"


@pytest.mark.parametrize(("count", "listed"), [(3, "safe/a0.py, safe/a1.py, safe/a2.py"), (5, "safe/a0.py, safe/a1.py, safe/a2.py and 2 more")])
def test_unlisted_files_are_named_a_few_at_a_time(count, listed, env: Env, bucket: Path, tmp_path: Path) -> None:
    unlisted = {f"safe/a{i}.py": b"" for i in range(count)}
    wheel = write_wheel(tmp_path / "wheels", "safe", "1.0", members(), unlisted=unlisted)
    with pytest.raises(InstallError) as caught:
        install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)
    assert f"contains files its RECORD does not list: {listed}. " in caught.value.message


def test_any_execute_bit_in_the_archive_makes_a_file_executable(env: Env, bucket: Path, tmp_path: Path) -> None:
    content = members(**{"safe/others.sh": "#!/bin/sh\n", "safe/shared.txt": "x"})
    modes = {"safe/others.sh": 0o641, "safe/shared.txt": 0o666}
    wheel = write_wheel(tmp_path / "wheels", "safe", "1.0", content, modes=modes)
    install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket, link_mode="copy")
    umask = os.umask(0)
    os.umask(umask)
    mode = {name: stat.S_IMODE((env.scheme.purelib / "safe" / name).stat().st_mode) for name in ("others.sh", "shared.txt")}
    assert mode == {"others.sh": 0o777 & ~umask, "shared.txt": 0o666 & ~umask}


def test_modes_follow_the_archive_and_the_umask(env: Env, bucket: Path, tmp_path: Path) -> None:
    content = members(**{"safe/tool.sh": "#!/bin/sh\n", "safe/data.txt": "x"})
    content["safe-1.0.data/scripts/run"] = b"#!/bin/sh\necho run\n"
    wheel = write_wheel(tmp_path / "wheels", "safe", "1.0", content, executable=frozenset({"safe/tool.sh"}))
    install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket, link_mode="copy")
    umask = os.umask(0)
    os.umask(umask)
    mode = {name: stat.S_IMODE((env.scheme.purelib / "safe" / name).stat().st_mode) for name in ("tool.sh", "data.txt")}
    assert mode == {"tool.sh": 0o777 & ~umask, "data.txt": 0o666 & ~umask}
    assert stat.S_IMODE((env.root / "bin" / "run").stat().st_mode) == 0o777 & ~umask
    # Files written for the environment (not linked) are plain files.
    assert stat.S_IMODE((env.scheme.purelib / "safe-1.0.dist-info" / "RECORD").stat().st_mode) == 0o666 & ~umask


def test_a_file_larger_than_one_read_is_checked_whole(env: Env, bucket: Path, tmp_path: Path) -> None:
    big = bytes(range(256)) * (3 * 4096 + 7)  # about 3 MiB, not a whole number of reads
    wheel = write_wheel(tmp_path / "wheels", "safe", "1.0", members(**{"safe/big.bin": ""}) | {"safe/big.bin": big})
    install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)
    assert (env.scheme.purelib / "safe" / "big.bin").read_bytes() == big


def test_record_digests_keep_every_character_but_the_padding() -> None:
    # A sha384 digest fills its last base64 character; one ending in a letter
    # a careless strip would also eat.
    def reference(data: bytes) -> str:
        return base64.urlsafe_b64encode(hashlib.sha384(data).digest()).decode().rstrip("=")

    data = next(str(i).encode() for i in range(10_000) if reference(str(i).encode()).endswith("X"))
    assert encode_digest(hashlib.sha384(data).digest()) == reference(data)
    assert encode_digest(hashlib.sha256(b"").digest()) == "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"


@pytest.mark.parametrize(
    ("text", "purelib"),
    [
        ("Wheel-Version: 1.0\nRoot-Is-Purelib: true\n", True),
        ("wheel-version: 1.9\nroot-is-purelib: FALSE\n\nTag: ignored\n", False),
    ],
)
def test_wheel_file_says_where_the_root_goes(text: str, purelib: bool) -> None:
    assert parse_wheel_metadata(text, filename="w.whl") is purelib


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Root-Is-Purelib: true\n", "w.whl declares wheel format no version; freewheel installs wheel format 1.x only."),
        ("Wheel-Version: 2.0\n", "w.whl declares wheel format version 2.0; freewheel installs wheel format 1.x only."),
        ("Wheel-Version: 1.0\n", "w.whl has a WHEEL file whose Root-Is-Purelib is 'missing'; it must be 'true' or 'false'."),
        ("Wheel-Version: 1.0\nRoot-Is-Purelib: yes\n", "w.whl has a WHEEL file whose Root-Is-Purelib is 'yes'; it must be 'true' or 'false'."),
    ],
)
def test_a_bad_wheel_file_is_explained(text: str, message: str) -> None:
    with pytest.raises(InstallError) as caught:
        parse_wheel_metadata(text, filename="w.whl")
    assert caught.value.message == message


def test_missing_hashes_and_files_are_named(env: Env, bucket: Path, tmp_path: Path) -> None:
    content = members()
    record = "".join(f"{p},,\n" for p in content) + "safe-1.0.dist-info/RECORD,,\n"
    unhashed = write_wheel(tmp_path / "a", "safe", "1.0", content, record=record)
    no_wheel_file = write_wheel(tmp_path / "b", "safe", "1.0", {p: d for p, d in content.items() if not p.endswith("/WHEEL")})
    weak = write_wheel(tmp_path / "d", "safe", "1.0", content, record=record.replace(",,", ",md5=AAAA,", 1))
    record_not_text = write_wheel(tmp_path / "e", "safe", "1.0", content, record=b"\xff\xfe")
    content["safe-1.0.dist-info/WHEEL"] = b"\xff\xfe"
    not_text = write_wheel(tmp_path / "c", "safe", "1.0", content)
    expected = {
        unhashed: "The RECORD of safe-1.0-py3-none-any.whl gives no hash for safe-1.0.dist-info/METADATA, "
        "safe-1.0.dist-info/WHEEL, safe/__init__.py; every file but RECORD itself must have one.",
        no_wheel_file: "safe-1.0-py3-none-any.whl has no safe-1.0.dist-info/WHEEL; it is not a complete wheel.",
        not_text: "safe-1.0-py3-none-any.whl has a safe-1.0.dist-info/WHEEL that is not UTF-8 text.",
        weak: "The RECORD of safe-1.0-py3-none-any.whl lists safe/__init__.py with the hash 'md5=AAAA'; "
        "only sha256 or stronger hashes are accepted.",
        record_not_text: "safe-1.0-py3-none-any.whl has a safe-1.0.dist-info/RECORD that is not UTF-8 text.",
    }
    for wheel, message in expected.items():
        with pytest.raises(InstallError) as caught:
            install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)
        assert caught.value.message == message


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("", "it is empty"),
        ("/etc/passwd", "it is absolute"),
        ("\\windows\\evil.py", "it is absolute"),
        ("C:/evil.py", "it names a drive"),
        ("pkg/../../evil.py", "it contains '..'"),
        ("pkg\\..\\evil.py", "it contains '..'"),
        ("pkg/a\0b.py", "it contains a NUL character"),
        ("pkg/mod.py", None),
        ("pkg/..hidden/mod.py", None),
    ],
)
def test_unsafe_path_reasons(path: str, reason: str | None) -> None:
    assert unsafe_path_reason(path) == reason


@pytest.mark.parametrize(
    ("names", "outcome"),
    [
        (["safe-1.0.dist-info/METADATA", "safe-1.0.dist-info/licenses/LICENSE", "pkg/vendored-2.0.dist-info/METADATA"],
         "safe-1.0.dist-info"),
        (["safe/__init__.py"], "safe-1.0-py3-none-any.whl must contain exactly one .dist-info directory; found none."),
        (["b-1.0.dist-info/METADATA", "a-1.0.dist-info/METADATA"],
         "safe-1.0-py3-none-any.whl must contain exactly one .dist-info directory; found a-1.0.dist-info, b-1.0.dist-info."),
        (["safe-2.0.dist-info/METADATA"], "safe-1.0-py3-none-any.whl contains safe-2.0.dist-info, which does not match the safe 1.0 the file name promises."),
        (["other-1.0.dist-info/METADATA"], "safe-1.0-py3-none-any.whl contains other-1.0.dist-info, which does not match the safe 1.0 the file name promises."),
        (["safe-one.dist-info/METADATA"], "safe-1.0-py3-none-any.whl contains safe-one.dist-info, which does not match the safe 1.0 the file name promises."),
    ],
)
def test_the_one_dist_info_directory_is_found(names: list[str], outcome: str) -> None:
    if outcome.endswith(".dist-info"):
        assert find_dist_info(names, "safe-1.0-py3-none-any.whl") == outcome
    else:
        with pytest.raises(InstallError) as caught:
            find_dist_info(names, "safe-1.0-py3-none-any.whl")
        assert caught.value.message == outcome


def test_a_member_twice_is_refused(env: Env, bucket: Path, tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path / "wheels", "safe", "1.0", members())
    with zipfile.ZipFile(wheel, "a") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        archive.writestr("safe/__init__.py", "X = 2\n")
    with pytest.raises(InstallError) as caught:
        install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)
    assert caught.value.message == "safe-1.0-py3-none-any.whl contains safe/__init__.py twice."


def test_record_signatures_may_go_unlisted_in_the_dist_info_only(env: Env, bucket: Path, tmp_path: Path) -> None:
    signed = write_wheel(tmp_path / "a", "safe", "1.0", members(), unlisted={"safe-1.0.dist-info/RECORD.jws": b"sig"})
    install_wheels([WheelToInstall(signed)], env.scheme, archive_bucket=bucket)
    assert not (env.scheme.purelib / "safe-1.0.dist-info" / "RECORD.jws").exists()
    for path in ("safe/RECORD.p7s", "safe-1.0.dist-info/sub/RECORD.jws"):
        elsewhere = write_wheel(tmp_path / "b", "safe", "1.0", members(), unlisted={path: b"sig"})
        with pytest.raises(InstallError, match=f"contains files its RECORD does not list: {path}"):
            install_wheels([WheelToInstall(elsewhere)], env.scheme, archive_bucket=bucket)


def test_a_file_at_the_root_named_like_a_data_directory_is_installed(env: Env, bucket: Path, tmp_path: Path) -> None:
    # Only a directory named *.data holds files to install elsewhere.
    wheel = write_wheel(tmp_path / "wheels", "safe", "1.0", members(**{"notes.data": "x"}))
    install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)
    assert (env.scheme.purelib / "notes.data").read_text() == "x"


def test_a_link_in_a_directory_of_its_own_is_installed(env: Env, bucket: Path, tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path / "wheels", "safe", "1.0", members(), symlinks={"safe/deep/er/alias": "target"})
    install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)
    assert os.readlink(env.scheme.purelib / "safe" / "deep" / "er" / "alias") == "target"


def test_a_member_the_file_system_cannot_hold_is_a_clear_error(bucket: Path, tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path / "wheels", "safe", "1.0", members(**{f"safe/{'x' * 300}.py": ""}))
    with pytest.raises(InstallError) as caught:
        unpack(wheel, bucket)
    assert caught.value.message == f"Could not unpack safe-1.0-py3-none-any.whl into {bucket}: File name too long."
    assert list(bucket.iterdir()) == []


def test_an_unreadable_wheel_is_a_clear_error(bucket: Path, tmp_path: Path) -> None:
    with pytest.raises(InstallError) as caught:
        unpack(tmp_path / "missing-1.0-py3-none-any.whl", bucket)
    assert caught.value.message == f"Could not read the wheel {tmp_path / 'missing-1.0-py3-none-any.whl'}: No such file or directory."


def test_a_link_below_the_root_may_have_the_data_directorys_name(env: Env, bucket: Path, tmp_path: Path) -> None:
    # Only at the root does that name mean the wheel's .data directory.
    files = members(**{"safe/safe-1.0.data/x.py": "X = 2\n"})
    wheel = write_wheel(tmp_path / "wheels", "safe", "1.0", files, symlinks={"safe/alias.py": "safe-1.0.data/x.py"})
    install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)
    assert os.readlink(env.scheme.purelib / "safe" / "alias.py") == "safe-1.0.data/x.py"


def test_a_link_whose_target_is_not_utf8_is_installed_byte_for_byte(env: Env, bucket: Path, tmp_path: Path) -> None:
    # File names are bytes on POSIX; a wheel made there may hold any.
    wheel = write_wheel(tmp_path / "wheels", "safe", "1.0", members(), symlinks={"safe/odd": "caf\udce9"})
    install_wheels([WheelToInstall(wheel)], env.scheme, archive_bucket=bucket)
    assert os.readlink(os.fsencode(env.scheme.purelib / "safe" / "odd")) == b"caf\xe9"


def test_a_whole_tree_with_links_is_reused(bucket: Path, tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path / "wheels", "safe", "1.0", members(), symlinks={"safe/alias.py": "__init__.py"})
    tree = unpack(wheel, bucket).tree
    # A file the RECORD does not list stays only if the tree is reused as it is.
    (tree / "reused").touch()
    assert unpack(wheel, bucket).tree == tree and (tree / "reused").exists()
    assert unpack(wheel, bucket, thorough=True).tree == tree and (tree / "reused").exists()


@pytest.mark.parametrize("changed", ["/etc/passwd", "other.py"], ids=["out, same length", "in, other length"])
def test_a_thorough_check_unpacks_a_tree_again_when_a_link_changed(changed: str, bucket: Path, tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path / "wheels", "safe", "1.0", members(), symlinks={"safe/alias.py": "__init__.py"})
    tree = unpack(wheel, bucket).tree
    link = tree / "safe" / "alias.py"
    link.unlink()
    link.symlink_to(changed)
    assert unpack(wheel, bucket, thorough=True).tree == tree
    assert os.readlink(link) == "__init__.py"


def test_a_dist_info_may_spell_the_name_with_hyphens() -> None:
    # Older tools did not escape the name; the version is what follows the last hyphen.
    assert find_dist_info(["my-pkg-1.0.dist-info/METADATA"], "my_pkg-1.0-py3-none-any.whl") == "my-pkg-1.0.dist-info"


def test_a_file_not_named_as_a_wheel_is_refused_by_name(bucket: Path, tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path / "wheels", "safe", "1.0", members())
    renamed = wheel.rename(wheel.with_name("safe.whl"))
    with pytest.raises(InstallError) as caught:
        unpack(renamed, bucket)
    assert caught.value.message.startswith("safe.whl is not a valid wheel file name: ")
