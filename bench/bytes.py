"""Bytes fetched by a backtracking resolution on an index without metadata.

    python bench/bytes.py [--versions 30] [--padding-mib 20] [--tools freewheel,uv,pip-compile]

A local index (no PEP 658 metadata, range requests honoured) serves
``heavy`` in ``--versions`` releases and ``partner`` in two, every wheel
padded to about ``--padding-mib`` MiB. The requirements are ``heavy`` and
``partner>=2``, but every ``heavy`` except the three oldest requires
``partner<2``: a resolver reads the dependencies of each ``heavy`` from the
newest down to 3.0, and can only learn them from the wheels. Each tool
resolves once with an empty cache; the table gives what the server sent
(``body_bytes`` of every response) against the total size of the wheels it
touched, i.e. what downloading them whole would have cost.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import harness
import synthetic  # puts tests/ on sys.path, for support.builders
from support.builders import make_wheel

MIB = 1024 * 1024
WORKING = 3  # the oldest releases of heavy that accept partner 2


def build(directory: Path, versions: int, padding: int) -> None:
    for v in range(1, versions + 1):
        partner = "partner>=1" if v <= WORKING else "partner<2"
        make_wheel(directory, "heavy", f"{v}.0", [partner], padding=padding)
    for v in (1, 2):
        make_wheel(directory, "partner", f"{v}.0", padding=padding)


def commands(bin_dir: Path, requirements: Path, index_url: str, cache: Path, output: Path) -> dict[str, list[str]]:
    target = ["--python-version", "3.11", "--python-platform", "linux"]
    common = [str(requirements), "--index-url", index_url, "--cache-dir", str(cache)]
    return {
        "freewheel": [*harness.FREEWHEEL, "pip", "compile", "--no-config", *common, *target, "-q", "-o", str(output)],
        "uv": [str(bin_dir / "uv"), "pip", "compile", "--no-config", *common, *target, "-q", "-o", str(output)],
        "pip-compile": [str(bin_dir / "pip-compile"), *common, "-q", "--output-file", str(output)],
    }


def mib(size: int) -> str:
    return f"{size / MIB:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--versions", type=int, default=30)
    parser.add_argument("--padding-mib", type=float, default=20)
    parser.add_argument("--latency", type=float, default=0.03, help="seconds per response")
    parser.add_argument("--tools", default="freewheel,uv,pip-compile")
    parser.add_argument("--venv", type=Path, default=harness.DEFAULT_VENV)
    args = parser.parse_args()

    names = args.tools.split(",")
    bin_dir = harness.peer_venv(args.venv, names)
    rows = []
    with tempfile.TemporaryDirectory(prefix="freewheel-bench-bytes-") as tmp_name:
        tmp = Path(tmp_name)
        dists = tmp / "dists"
        build(dists, args.versions, int(args.padding_mib * MIB))
        sizes = {path.name: path.stat().st_size for path in dists.iterdir()}
        requirements = tmp / "bytes.in"
        requirements.write_text("heavy\npartner>=2\n")
        with synthetic.serve(dists, latency=args.latency, metadata=False) as server:
            for name in names:
                work = tmp / name
                work.mkdir()
                output = work / "out.txt"
                command = commands(bin_dir, requirements, server.url, work / "cache", output)[name]
                server.requests.clear()
                elapsed = harness.timed(name, command, harness.isolated_env(work), cwd=work)
                files = [r for r in server.requests if r.path.startswith("/files/")]
                touched = {re.sub(r"^/files/", "", r.path) for r in files}
                sent = sum(r.body_bytes for r in server.requests)
                whole = sum(sizes.get(f, 0) for f in touched)
                picked = re.search(r"^heavy==(\S+)", output.read_text(), re.M) if output.exists() else None
                rows.append([
                    name,
                    picked.group(1) if picked else "failed",
                    harness.seconds(elapsed),
                    str(len(server.requests)),
                    str(len(files)),
                    str(len(touched)),
                    mib(sent),
                    mib(whole),
                    f"{100 * sent / whole:.3f}" if whole else "",
                ])
                print(" ".join(rows[-1]), file=sys.stderr, flush=True)

    print(
        f"backtracking through {args.versions - WORKING} releases of heavy "
        f"({args.padding_mib:g} MiB wheels, no metadata files), cold cache, "
        f"latency {args.latency:.3f} s per response"
    )
    headers = [
        "tool", "heavy ==", "s", "requests", "file requests", "wheels touched",
        "MiB sent", "MiB of wheels touched", "% sent",
    ]
    print(harness.table(headers, rows))


if __name__ == "__main__":
    main()
