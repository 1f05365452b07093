from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from freewheel.config import pip as pipconfig
from freewheel.config.pip import (
    PipSetting,
    config_files,
    load_pip_config,
    pip_default_index_url,
)
from freewheel.errors import UsageError


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep this machine's pip configuration out of every test, /etc/pip.conf included."""
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setattr(pipconfig, "SYSTEM_CONFIG_FILE", tmp_path / "etc" / "pip.conf")


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    home = tmp_path / "home"
    return {
        "system": tmp_path / "etc" / "pip.conf",
        "xdg-global": tmp_path / "xdg" / "pip" / "pip.conf",
        "legacy": home / ".pip" / "pip.conf",
        "user": home / ".config" / "pip" / "pip.conf",
        "site": tmp_path / "venv" / "pip.conf",
        "override": tmp_path / "override.conf",
    }


def environ_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_DIRS": str(tmp_path / "xdg"),
        "VIRTUAL_ENV": str(tmp_path / "venv"),
        **extra,
    }


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_files_override_in_pips_order(tmp_path: Path, layout: dict[str, Path]) -> None:
    order = ["xdg-global", "system", "legacy", "user", "site", "override"]
    for name in order:
        write(layout[name], f"[global]\nindex-url = https://{name}.example/simple\n")
    environ = environ_for(tmp_path)
    assert config_files(environ, tmp_path / "home") == [layout[name] for name in order[:-1]]
    # Each file in turn overrides everything read before it.
    for name in reversed(order[:-1]):
        config = load_pip_config(environ=environ)
        assert config.index_url == PipSetting(
            f"https://{name}.example/simple", f"pip config {layout[name]} [global] index-url"
        )
        layout[name].unlink()


def test_pip_config_file_is_read_last_and_replaces_the_user_files(
    tmp_path: Path, layout: dict[str, Path]
) -> None:
    for name in ("legacy", "user", "site", "override"):
        write(layout[name], f"[global]\ntrusted-host = {name}.example\n")
    write(layout["user"], "[global]\nfind-links = /user/links\n")
    environ = environ_for(tmp_path, PIP_CONFIG_FILE=str(layout["override"]))
    assert config_files(environ, tmp_path / "home") == [layout["site"], layout["override"]]
    config = load_pip_config(environ=environ)
    assert config.trusted_hosts is not None and config.trusted_hosts.value == ("override.example",)
    assert config.find_links is None


def test_devnull_disables_every_file_but_not_the_environment(
    tmp_path: Path, layout: dict[str, Path]
) -> None:
    write(layout["user"], "[global]\nindex-url = https://user.example/simple\n")
    environ = environ_for(tmp_path, PIP_CONFIG_FILE=os.devnull, PIP_PRE="yes")
    config = load_pip_config(environ=environ)
    assert config.index_url is None
    assert config.pre == PipSetting(True, "PIP_PRE")


def test_command_section_beats_global_even_from_an_earlier_file(
    tmp_path: Path, layout: dict[str, Path]
) -> None:
    write(layout["user"], "[install]\nindex-url = https://install.example/simple\n")
    write(layout["site"], "[global]\nindex-url = https://global.example/simple\n")
    environ = environ_for(tmp_path)
    assert load_pip_config(environ=environ).index_url == PipSetting(
        "https://install.example/simple", f"pip config {layout['user']} [install] index-url"
    )
    # Another command's section does not apply.
    assert load_pip_config(section="download", environ=environ).index_url == PipSetting(
        "https://global.example/simple", f"pip config {layout['site']} [global] index-url"
    )


def test_environment_variables_beat_files(tmp_path: Path, layout: dict[str, Path]) -> None:
    write(
        layout["user"],
        """\
        [install]
        extra-index-url =
            https://one.example/simple
            https://two.example/simple
        no-index = true
        """,
    )
    environ = environ_for(
        tmp_path,
        PIP_EXTRA_INDEX_URL="https://env-a.example/simple  https://env-b.example/simple",
        PIP_NO_INDEX="off",
        PIP_FIND_LINKS="/a\n/b",
    )
    config = load_pip_config(environ=environ)
    assert config.extra_index_urls == PipSetting(
        ("https://env-a.example/simple", "https://env-b.example/simple"), "PIP_EXTRA_INDEX_URL"
    )
    assert config.no_index == PipSetting(False, "PIP_NO_INDEX")
    assert config.find_links == PipSetting(("/a", "/b"), "PIP_FIND_LINKS")
    without_env = load_pip_config(environ=environ_for(tmp_path))
    assert without_env.extra_index_urls is not None
    assert without_env.extra_index_urls.value == (
        "https://one.example/simple",
        "https://two.example/simple",
    )
    assert without_env.no_index is not None and without_env.no_index.value is True


def test_every_supported_option_and_name_spellings(tmp_path: Path, layout: dict[str, Path]) -> None:
    write(
        layout["user"],
        """\
        [global]
        index_url = https://underscored.example/simple
        --find-links = /dashed
        constraint = /c1.txt /c2.txt
        only-binary = :all:
        no-binary = alpha, beta
        cert = /ca.pem
        pre = 1
        """,
    )
    config = load_pip_config(environ=environ_for(tmp_path, PIP_TRUSTED_HOST="h1 h2"))
    assert config.index_url == PipSetting(
        "https://underscored.example/simple", f"pip config {layout['user']} [global] index_url"
    )
    assert config.find_links is not None and config.find_links.value == ("/dashed",)
    assert config.constraints is not None and config.constraints.value == ("/c1.txt", "/c2.txt")
    assert config.only_binary is not None and config.only_binary.value == (":all:",)
    assert config.no_binary is not None and config.no_binary.value == ("alpha", "beta")
    assert config.cert is not None and config.cert.value == "/ca.pem"
    assert config.pre is not None and config.pre.value is True
    assert config.trusted_hosts == PipSetting(("h1", "h2"), "PIP_TRUSTED_HOST")


def test_empty_values_are_ignored(tmp_path: Path, layout: dict[str, Path]) -> None:
    write(
        layout["user"],
        "[global]\nindex-url = https://user.example/simple\n[install]\nindex-url =\n",
    )
    config = load_pip_config(environ=environ_for(tmp_path, PIP_INDEX_URL=""))
    assert config.index_url is not None and config.index_url.value == "https://user.example/simple"


def test_default_home_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write(tmp_path / "home" / ".config" / "pip" / "pip.conf", "[global]\ncert = /x.pem\n")
    monkeypatch.delenv("PIP_CONFIG_FILE")
    assert load_pip_config().cert == PipSetting(
        "/x.pem", f"pip config {tmp_path / 'home' / '.config' / 'pip' / 'pip.conf'} [global] cert"
    )


def test_bad_boolean_and_bad_file(tmp_path: Path, layout: dict[str, Path]) -> None:
    with pytest.raises(UsageError) as info:
        load_pip_config(environ=environ_for(tmp_path, PIP_NO_INDEX="maybe"))
    assert info.value.message == (
        "PIP_NO_INDEX is set to `maybe`, which is not a boolean value; pip accepts "
        "yes/no, true/false, on/off or 1/0."
    )
    write(layout["user"], "index-url = https://no-section.example\n")
    with pytest.raises(UsageError) as info:
        load_pip_config(environ=environ_for(tmp_path))
    assert info.value.message.startswith(
        f"pip's configuration file `{layout['user']}` could not be read: "
    )
    assert "PIP_CONFIG_FILE=/dev/null" in (info.value.hint or "")


def test_other_platforms_file_locations(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "Library" / "Application Support" / "pip").mkdir(parents=True)
    write(home / "Library" / "Application Support" / "pip" / "pip.conf", "")
    write(home / ".config" / "pip" / "pip.conf", "")
    assert config_files({}, home, platform="darwin") == [
        home / "Library" / "Application Support" / "pip" / "pip.conf"
    ]
    appdata = tmp_path / "appdata"
    write(appdata / "pip" / "pip.ini", "")
    write(home / "pip" / "pip.ini", "")
    assert config_files({"APPDATA": str(appdata)}, home, platform="win32") == [
        home / "pip" / "pip.ini",
        appdata / "pip" / "pip.ini",
    ]


def test_default_index_url_comes_from_pip_and_is_remembered(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FREEWHEEL_CACHE_DIR", str(tmp_path))
    pip_default_index_url.cache_clear()
    url = pip_default_index_url()
    assert url.startswith("https://")
    assert url.endswith(("/simple", "/simple/"))
    [memo] = (tmp_path / "pip-default-index").iterdir()
    assert memo.read_text().strip() == url
    # The remembered answer is used without asking pip again.
    memo.write_text("https://remembered.example.org/simple\n")
    pip_default_index_url.cache_clear()
    assert pip_default_index_url() == "https://remembered.example.org/simple"
    pip_default_index_url.cache_clear()


def test_default_index_url_without_pip(tmp_path, monkeypatch) -> None:
    """No pip in this Python and no python on PATH: a clear error."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("FREEWHEEL_CACHE_DIR", str(tmp_path))
    code = (
        "import importlib.util, sys; from freewheel.errors import UsageError;"
        "from freewheel.config import pip as pipconfig;"
        "importlib.util.find_spec = lambda name, *a: None;"
        "\ntry: pipconfig.pip_default_index_url()"
        "\nexcept UsageError as e: print(e.message); print(e.hint)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip, which defines the usual default, could not be found" in completed.stdout
    assert "--default-index" in completed.stdout


def _fake_pip(root: Path, version: str, default: str) -> None:
    """A pip package at *root* whose ``install --help`` names *default*."""
    write(root / "pip" / "__init__.py", f'__version__ = "{version}"\n')
    write(
        root / "pip" / "__main__.py",
        f"print('  -i, --index-url <url>  Base URL of the Python Package Index (default {default}).')\n",
    )


def test_default_index_url_is_asked_again_after_pip_changes(tmp_path: Path) -> None:
    """The remembered answer belongs to one version of pip: an upgraded pip,
    whose default may differ, is asked again; the same version is not."""
    fake = tmp_path / "fake"
    code = "from freewheel.config.pip import pip_default_index_url as f; print(f())"
    env = {**os.environ, "PYTHONPATH": str(fake), "FREEWHEEL_CACHE_DIR": str(tmp_path / "cache")}

    def default_index() -> str:
        completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        return completed.stdout.strip()

    _fake_pip(fake, "1.0", "https://one.example.test/simple")
    assert default_index() == "https://one.example.test/simple"
    _fake_pip(fake, "1.0", "https://ignored.example.test/simple")
    assert default_index() == "https://one.example.test/simple"
    _fake_pip(fake, "2.0", "https://two.example.test/simple")
    assert default_index() == "https://two.example.test/simple"
