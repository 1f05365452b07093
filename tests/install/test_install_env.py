"""Installing wheels into real virtual environments, checked from inside them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from wheelkit import Env, build_wheel, snapshot

from freewheel.install import WheelToInstall, install_wheels, uninstall

CLI_FILES = {
    "greet/__init__.py": "def main():\n    print('hello from greet')\n\ndef window():\n    return 0\n",
    "greet-1.0.data/scripts/greet-tool": (
        "#!python\nimport sys\nprint('tool prefix', sys.prefix)\n"
    ),
    "greet-1.0.data/scripts/plain.sh": "#!/bin/sh\necho plain\n",
    "greet-1.0.data/data/share/greet/greeting.txt": "hi\n",
    "greet-1.0.data/headers/greet.h": "#define GREET 1\n",
}
CLI_ENTRY_POINTS = "[console_scripts]\ngreet = greet:main\n\n[gui_scripts]\ngreet-gui = greet:window\n"


def files(tree: dict[str, tuple[str, int, bytes]]) -> dict[str, tuple[str, int, bytes]]:
    return {path: entry for path, entry in tree.items() if entry[0] != "dir"}


def install(env: Env, bucket: Path, *wheels: Path, **options: object) -> list:
    return install_wheels(
        [WheelToInstall(wheel) for wheel in wheels], env.scheme, archive_bucket=bucket, **options
    )


@pytest.fixture
def cli_wheel(tmp_path: Path) -> Path:
    return build_wheel(tmp_path / "wheels", "greet", "1.0", CLI_FILES, entry_points=CLI_ENTRY_POINTS)


def test_console_and_gui_scripts_run_with_the_environment_python(
    env: Env, bucket: Path, cli_wheel: Path
) -> None:
    install(env, bucket, cli_wheel)
    scripts = env.root / "bin"
    result = os.popen(str(scripts / "greet")).read()
    assert result == "hello from greet\n"
    gui = (scripts / "greet-gui").read_text()
    assert gui.startswith(f"#!{env.python}\n")
    assert "from greet import window" in gui
    assert os.access(scripts / "greet-gui", os.X_OK)


def test_data_scripts_get_the_environment_interpreter(env: Env, bucket: Path, cli_wheel: Path) -> None:
    install(env, bucket, cli_wheel)
    tool = env.root / "bin" / "greet-tool"
    assert tool.read_text().splitlines()[0] == f"#!{env.python}"
    assert os.popen(str(tool)).read() == f"tool prefix {env.root}\n"
    # Scripts without #!python are installed unchanged, and executable.
    assert os.popen(str(env.root / "bin" / "plain.sh")).read() == "plain\n"


def test_data_and_headers_go_to_the_scheme_directories(env: Env, bucket: Path, cli_wheel: Path) -> None:
    install(env, bucket, cli_wheel)
    assert (env.root / "share" / "greet" / "greeting.txt").read_text() == "hi\n"
    headers = list(env.root.glob("include/site/python3.*/greet/greet.h"))
    assert [path.read_text() for path in headers] == ["#define GREET 1\n"]


def test_record_lists_installed_paths_as_pip_writes_them(env: Env, bucket: Path, cli_wheel: Path) -> None:
    (dist,) = install(env, bucket, cli_wheel)
    rows = (dist.dist_info / "RECORD").read_text().splitlines()
    paths = [row.split(",")[0] for row in rows]
    assert "../../../bin/greet" in paths
    assert "../../../bin/greet-tool" in paths
    assert "../../../share/greet/greeting.txt" in paths
    assert "greet/__init__.py" in paths
    assert "greet-1.0.dist-info/RECORD,," in rows
    assert "greet-1.0.dist-info/INSTALLER" in paths
    # Every row but RECORD's resolves to an installed file.
    site = dist.dist_info.parent
    assert all((site / path).is_file() for path in paths)


def test_namespace_package_split_across_two_wheels(env: Env, bucket: Path, tmp_path: Path) -> None:
    first = build_wheel(tmp_path / "w", "ns-one", "1.0", {"ns/one/__init__.py": "NAME = 'one'\n"})
    second = build_wheel(tmp_path / "w", "ns-two", "1.0", {"ns/two/__init__.py": "NAME = 'two'\n"})
    install(env, bucket, first, second)
    result = env.run("-c", "import ns.one, ns.two; print(ns.one.NAME, ns.two.NAME)")
    assert result.stdout == "one two\n", result.stderr

    uninstall(env.scheme.purelib, "ns-one")
    assert env.run("-c", "import ns.two").returncode == 0
    assert env.run("-c", "import ns.one").returncode != 0


def test_pth_file_takes_effect(env: Env, bucket: Path, tmp_path: Path) -> None:
    wheel = build_wheel(
        tmp_path / "w",
        "hidden",
        "1.0",
        {"hidden.pth": "hidden_dir\n", "hidden_dir/hidden_module.py": "VALUE = 42\n"},
    )
    install(env, bucket, wheel)
    result = env.run("-c", "import hidden_module; print(hidden_module.VALUE)")
    assert result.stdout == "42\n", result.stderr


def test_platlib_wheel_installs_into_platlib(env: Env, bucket: Path, tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "w", "native", "2.0", {"native/__init__.py": "X = 1\n"}, purelib=False)
    (dist,) = install(env, bucket, wheel)
    assert dist.dist_info.parent == env.scheme.platlib
    assert env.run("-c", "import native; print(native.X)").stdout == "1\n"


def test_a_tree_reused_from_the_cache_goes_where_its_wheel_says(
    new_env: Callable[[str], Env], bucket: Path, tmp_path: Path
) -> None:
    # Where purelib and platlib differ (lib and lib64 on some systems), the
    # manifest of the unpacked tree must keep Root-Is-Purelib.
    pure = build_wheel(tmp_path / "w", "pure", "1.0", {"pure.py": ""})
    native = build_wheel(tmp_path / "w", "native", "1.0", {"native.py": ""}, purelib=False)
    for name in ("first", "second"):  # the second from the cached trees
        env = new_env(name)
        scheme = msgspec.structs.replace(env.scheme, platlib=env.root / "lib64-site-packages")
        install_wheels([WheelToInstall(pure), WheelToInstall(native)], scheme, archive_bucket=bucket)
        assert [p.name for p in scheme.purelib.glob("*.py")] == ["pure.py"]
        assert [p.name for p in scheme.platlib.glob("*.py")] == ["native.py"]


def test_pip_sees_a_consistent_environment(env: Env, bucket: Path, tmp_path: Path) -> None:
    wheels = tmp_path / "w"
    app = build_wheel(wheels, "app", "1.0", {"app.py": ""}, requires=("lib>=2",))
    lib = build_wheel(wheels, "lib", "2.1", {"lib.py": ""})
    install(env, bucket, app, lib)
    listing = env.pip("list", "--format=json")
    assert {(row["name"], row["version"]) for row in json.loads(listing.stdout)} >= {
        ("app", "1.0"),
        ("lib", "2.1"),
    }, listing.stderr
    check = env.pip("check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_metadata_files_say_who_installed_and_why(env: Env, bucket: Path, tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "w", "marked", "1.0", {"marked.py": ""})
    direct_url = {"url": wheel.as_uri(), "archive_info": {}}
    install_wheels(
        [WheelToInstall(wheel, requested=True, direct_url=direct_url)],
        env.scheme,
        archive_bucket=bucket,
    )
    code = (
        "import importlib.metadata as m, json; d = m.distribution('marked');"
        "print(d.read_text('INSTALLER').strip(), d.read_text('REQUESTED') is not None,"
        " json.loads(d.read_text('direct_url.json'))['url'])"
    )
    assert env.run("-c", code).stdout == f"freewheel True {wheel.as_uri()}\n"


def test_pip_uninstall_removes_everything_freewheel_installed(
    env: Env, bucket: Path, cli_wheel: Path
) -> None:
    before = snapshot(env.root)
    install(env, bucket, cli_wheel, compile_bytecode=True)
    assert env.run("-c", "import greet").returncode == 0
    result = env.pip("uninstall", "-y", "greet")
    assert result.returncode == 0, result.stderr
    # pip keeps the emptied parents of data directories (share/, include/site/),
    # so files and links are compared, not directories.
    assert files(snapshot(env.root)) == files(before)


def test_freewheel_uninstall_removes_what_pip_installed(env: Env, cli_wheel: Path) -> None:
    before = snapshot(env.root)
    result = env.pip("install", "--no-index", "--no-deps", str(cli_wheel))
    assert result.returncode == 0, result.stderr
    assert (env.root / "bin" / "greet").exists()

    removed = uninstall(env.scheme.purelib, "greet")

    assert env.root / "bin" / "greet" in removed
    assert snapshot(env.root) == before


def test_uninstall_removes_what_freewheel_installed(env: Env, bucket: Path, cli_wheel: Path) -> None:
    before = snapshot(env.root)
    install(env, bucket, cli_wheel, compile_bytecode=True)
    assert env.run("-c", "import greet").returncode == 0
    uninstall(env.scheme.purelib, "GREET")
    assert snapshot(env.root) == before


def test_bytecode_is_compiled_and_recorded(env: Env, bucket: Path, cli_wheel: Path) -> None:
    (dist,) = install(env, bucket, cli_wheel, compile_bytecode=True)
    caches = list((env.scheme.purelib / "greet" / "__pycache__").glob("__init__.*.pyc"))
    assert len(caches) == 1
    record = (dist.dist_info / "RECORD").read_text()
    assert f"greet/__pycache__/{caches[0].name},," in record.splitlines()


def test_upgrade_replaces_the_old_version(env: Env, bucket: Path, tmp_path: Path) -> None:
    old = build_wheel(tmp_path / "w", "pkg", "1.0", {"pkg/__init__.py": "V = 1\n", "pkg/gone.py": ""})
    new = build_wheel(tmp_path / "w", "pkg", "2.0", {"pkg/__init__.py": "V = 2\n", "pkg/new.py": ""})
    install(env, bucket, old)
    (dist,) = install(env, bucket, new)

    site = env.scheme.purelib
    assert dist.replaced == (site / "pkg-1.0.dist-info",)
    assert sorted(path.name for path in site.glob("pkg*")) == ["pkg", "pkg-2.0.dist-info"]
    assert sorted(path.name for path in (site / "pkg").iterdir()) == ["__init__.py", "new.py"]
    assert env.run("-c", "import pkg; print(pkg.V)").stdout == "2\n"


def test_reinstalling_the_same_version_keeps_one_copy(
    new_env: Callable[[str], Env], bucket: Path, cli_wheel: Path
) -> None:
    env = new_env("env")
    install(env, bucket, cli_wheel)
    first = snapshot(env.root)
    install(env, bucket, cli_wheel)
    assert snapshot(env.root) == first
