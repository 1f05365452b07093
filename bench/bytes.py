"""Bytes fetched by a backtracking resolution on an index without metadata.

    python bench/bytes.py [--versions 30] [--padding-mib 20] [--tools freewheel,uv,pip-compile]

(also the ``bytes`` case of ``bench/all.py``).

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
import tempfile
from pathlib import Path

import harness
import synthetic  # puts tests/ on sys.path, for support.builders
from support.builders import make_wheel

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
    return f"{size / harness.MIB:.2f}"


def run(bin_dir: Path, names: list[str], versions: int, padding_mib: float, latency: float,
        timeout: float) -> list[dict[str, object]]:
    """One cold resolution per tool: what it picked, how long it took, and what the server sent."""
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="freewheel-bench-bytes-") as tmp_name:
        tmp = Path(tmp_name)
        dists = tmp / "dists"
        build(dists, versions, int(padding_mib * harness.MIB))
        sizes = {path.name: path.stat().st_size for path in dists.iterdir()}
        requirements = tmp / "bytes.in"
        requirements.write_text("heavy\npartner>=2\n")
        with synthetic.serve(dists, latency=latency, metadata=False) as server:
            for name in names:
                work = tmp / name
                work.mkdir()
                output = work / "out.txt"
                command = commands(bin_dir, requirements, server.url, work / "cache", output)[name]
                server.requests.clear()
                sample = harness.measure(
                    command, harness.isolated_env(work), cwd=work, timeout=timeout, log=work / "log"
                )
                files = [r for r in server.requests if r.path.startswith("/files/")]
                touched = {re.sub(r"^/files/", "", r.path) for r in files}
                picked = re.search(r"^heavy==(\S+)", output.read_text(), re.M) if output.exists() else None
                if sample.ok and not picked:
                    sample = sample.failed("exit 0 but no heavy pin written")
                rows.append({
                    "tool": name,
                    "command": command,
                    "sample": sample,
                    "heavy": picked.group(1) if picked else None,
                    "requests": len(server.requests),
                    "file_requests": len(files),
                    "wheels_touched": len(touched),
                    "bytes_sent": sum(r.body_bytes for r in server.requests),
                    "bytes_of_wheels_touched": sum(sizes.get(f, 0) for f in touched),
                })
    return rows


def title(versions: int, padding_mib: float, latency: float) -> str:
    return (
        f"backtracking through {versions - WORKING} releases of heavy "
        f"({padding_mib:g} MiB wheels, no metadata files), cold cache, "
        f"latency {latency:.3f} s per response"
    )


def render(rows: list[dict[str, object]]) -> str:
    """The table of :func:`run`'s rows; the ratio is freewheel's bytes over each tool's."""
    ours = next((r["bytes_sent"] for r in rows if r["tool"] == "freewheel"), None)
    cells = []
    for row in rows:
        sample = row["sample"]
        sent, whole = row["bytes_sent"], row["bytes_of_wheels_touched"]
        cells.append([
            row["tool"],
            row["heavy"] or "",
            sample.status,
            harness.seconds(sample.wall),
            str(row["requests"]),
            str(row["file_requests"]),
            str(row["wheels_touched"]),
            mib(sent),
            mib(whole),
            f"{100 * sent / whole:.3f}" if whole else "",
            f"{ours / sent:.3g}" if ours and sent and row["tool"] != "freewheel" else "",
        ])
    headers = [
        "tool", "heavy ==", "result", "s", "requests", "file requests", "wheels touched",
        "MiB sent", "MiB of wheels touched", "% sent", "freewheel ÷ it (bytes)",
    ]
    return harness.table(headers, cells)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--versions", type=int, default=30)
    parser.add_argument("--padding-mib", type=float, default=20)
    parser.add_argument("--latency", type=float, default=0.03, help="seconds per response")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a run fails")
    parser.add_argument("--tools", default="freewheel,uv,pip-compile")
    parser.add_argument("--venv", type=Path, default=harness.DEFAULT_VENV)
    args = parser.parse_args()

    names = args.tools.split(",")
    bin_dir = harness.peer_venv(args.venv, names)
    rows = run(bin_dir, names, args.versions, args.padding_mib, args.latency, args.timeout)
    print(title(args.versions, args.padding_mib, args.latency))
    print(render(rows))


if __name__ == "__main__":
    main()
