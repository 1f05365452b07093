"""Fetching ahead reads only what the requirements allow.

While the resolver walks back through a project's versions, freewheel
fetches the next versions' metadata, and that of the best version of each
of their dependencies, before the resolver asks. A dependency's best
version is sought within what the requirements and constraints allow of
it: a version they exclude can never be chosen, and reading it (a range
request into a wheel, on an index without metadata files) only costs bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.builders import make_wheel
from support.cli import freewheel

WORKING = 2  # the oldest releases of heavy, which accept partner 2


def _walk_index(dists: Path) -> None:
    for v in range(1, 13):
        make_wheel(dists, "heavy", f"{v}.0", ["partner>=1" if v <= WORKING else "partner<2"])
    for v in (1, 2):
        make_wheel(dists, "partner", f"{v}.0")


@pytest.mark.parametrize(
    ("requirements", "constraints"),
    [("heavy\npartner>=2\n", None), ("heavy\npartner\n", "partner>=2\n")],
    ids=["requirement", "constraint"],
)
def test_walk_back_never_reads_an_excluded_version(
    tmp_path: Path, index_server, requirements: str, constraints: str | None
) -> None:
    dists = tmp_path / "dists"
    _walk_index(dists)
    server = index_server(dists, metadata=False, latency=0.02)
    (tmp_path / "requirements.in").write_text(requirements)
    options = []
    if constraints is not None:
        (tmp_path / "constraints.txt").write_text(constraints)
        options = ["-c", str(tmp_path / "constraints.txt")]
    result = freewheel(
        "pip", "compile", "requirements.in", *options, "--no-config", "--cache-dir", str(tmp_path / "cache"),
        "--default-index", server.url, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "heavy==2.0" in result.stdout and "partner==2.0" in result.stdout
    read = {path.rsplit("/", 1)[1] for path in server.paths() if path.startswith("/files/")}
    assert "partner-1.0-py3-none-any.whl" not in read
    # The walk itself did read every heavy down to the one chosen.
    assert {f"heavy-{v}.0-py3-none-any.whl" for v in range(WORKING, 13)} <= read
