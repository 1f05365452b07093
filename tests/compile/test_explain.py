"""``freewheel explain PKG``: indexes asked, and a verdict per version."""

from __future__ import annotations

from support.builders import make_wheel

from freewheel.cli import run


def test_explain_names_indexes_and_verdicts(tmp_path, index_server, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    make_wheel(a, "torch", "2.1.0+cpu")
    make_wheel(a, "torch", "2.0.0+cpu", requires_python=">=3.12")
    make_wheel(a, "torch", "2.2.0rc1+cpu")
    make_wheel(b, "torch", "2.2.0")
    make_wheel(c, "torch", "2.3.0")
    first, second, third = index_server(a), index_server(b), index_server(c)
    base = ["explain", "--python-version", "3.11", "--python-platform", "linux",
            "--index", first.url, "--index", f"b={second.url}", "--default-index", third.url]

    assert run([*base, "torch"]) == 0
    out = capsys.readouterr().out
    assert f"  {first.url}: 3 files (used)" in out
    assert f"  b ({second.url}): not asked under this strategy; it offers 1 file" in out
    assert "  2.1.0+cpu        taken" in out
    assert "  2.0.0+cpu        rejected: requires Python >=3.12 (resolving for 3.11)" in out

    assert run([*base, "torch>=2.1.5", "--prerelease", "disallow"]) == 1
    captured = capsys.readouterr()
    assert "  2.2.0rc1+cpu     not tried: a pre-release, and --prerelease is disallow" in captured.out
    assert "  2.1.0+cpu        outside torch>=2.1.5" in captured.out
    assert "torch 2.2.0 (matching torch>=2.1.5) is on b" in captured.err

    # A final release is never "a pre-release", whatever the policy.
    assert run([*base, "torch", "--prerelease", "disallow"]) == 0
    assert "  2.1.0+cpu        taken" in capsys.readouterr().out
