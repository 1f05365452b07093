"""Run freewheel and its peers on the same work, in one run, and print the ratios.

    .venv/bin/python bench/all.py [--only GROUP_OR_CASE,...] [--tools TOOL,...]
                                  [--runs N] [--timeout S] [--json FILE] [--markdown FILE]
    .venv/bin/python bench/all.py --list

Cases and groups are listed in ``bench/cases.py`` (``--list`` prints them);
``--only solver`` runs the solver cases, ``--only trio,bytes`` two cases.
For each case, each tool runs the case's phases (``cold``, ``warm``,
``offline`` for compiles; ``cold``, ``warm``, ``noop`` for installs) in a
directory of its own, ``--runs`` times (default: the case's), the tools
taking turns within each run. A run that fails or passes the timeout is
recorded as such and that tool's remaining runs of the case are skipped.
After every run the pins each tool wrote (or the packages it installed) are
read back; the case reports whether they are identical across tools, or
every difference.

The results (every sample, the exact commands, pins, tool versions, the
machine and the commit) go to ``--json``; ``--markdown`` writes the report
``bench/report.py`` renders from them. Peers are installed into ``--venv``
(outside the repository) and upgraded to their newest releases first.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import bytes as bytes_case
import compile as compile_case
import download as download_case
import harness
import report
import sync as sync_case
import synthetic
from cases import CASES, Case
from freewheel.config.pip import pip_default_index_url

SEED = 20240611
# What the http case runs with, in the peers' environment: the libraries it
# compares, and what importing freewheel's transport from this checkout needs.
HTTP_LIBRARIES = ("httpx[http2]", "httpx2", "packaging", "msgspec")


def select(only: str | None) -> list[Case]:
    """The cases named in *only* (case names or groups, comma-separated), in their order."""
    if not only:
        return list(CASES)
    wanted = set(only.split(","))
    known = {c.name for c in CASES} | {g for c in CASES for g in c.groups}
    if unknown := wanted - known:
        raise SystemExit(f"unknown case or group: {', '.join(sorted(unknown))} (see --list)")
    return [c for c in CASES if c.name in wanted or wanted & set(c.groups)]


def listing() -> str:
    rows = [
        [c.name, ", ".join(c.groups), ", ".join(c.tools), ", ".join(c.phases), str(c.runs), c.title]
        for c in CASES
    ]
    return harness.table(["case", "groups", "tools", "phases", "runs", "what"], rows)


@dataclasses.dataclass
class Context:
    """What every case of a run shares."""

    bin_dir: Path
    default_url: str
    tmp: Path
    stack: ExitStack
    tools: list[str] | None
    runs: int | None
    timeout: float | None
    served: dict[tuple[str, str, bool], tuple[Path, str]] = dataclasses.field(default_factory=dict)

    def source(self, case: Case) -> tuple[Path, str]:
        """The requirements file and index URL of *case*; synthetic registries are served here."""
        if case.index == "default":
            return harness.SETS / case.source, self.default_url
        key = (case.index, case.source, case.immutable_files)
        if key not in self.served:
            directory = self.tmp / "registries" / case.source
            requirements = directory / f"{case.source}.in"
            if not requirements.exists():
                registry = synthetic.plan_registry(synthetic.SHAPES[case.source], SEED, case.source)
                synthetic.build_registry(registry, directory / "dists")
                requirements.write_text(registry.requirements_in())
            server = self.stack.enter_context(
                synthetic.serve(
                    directory / "dists", latency=0.03, metadata=case.index == "local-meta",
                    cache_control="max-age=365000000, immutable, public" if case.immutable_files else None,
                )
            )
            self.served[key] = (requirements, server.url)
        return self.served[key]

    def clean(self, text: str, work: Path, index_url: str | None) -> str:
        """*text* with placeholders for the run's directories and indexes."""
        for path, name in (
            (work, "$WORK"), (self.tmp, "$TMP"), (self.bin_dir, "$PEERS"),
            (Path(sys.executable), "python"), (harness.ROOT, "."),
        ):
            text = text.replace(str(path), name)
        if index_url and index_url != self.default_url:
            text = text.replace(index_url.rstrip("/"), "http://127.0.0.1:$PORT")
        return harness.scrub(text, self.default_url)

    def describe(self, command: list[str], work: Path, index_url: str | None) -> str:
        """*command* as a reader can rerun it (see :meth:`clean`)."""
        return self.clean(shlex.join(str(part) for part in command), work, index_url)


def tools_of(case: Case, context: Context) -> list[str]:
    return [t for t in case.tools if context.tools is None or t in context.tools]


def _pin_check(pins: dict[str, dict[str, str]], unstable: dict[str, list[str]]) -> dict:
    reference = "freewheel" if "freewheel" in pins else next(iter(pins), None)
    differences = {
        tool: harness.pin_differences(pins[reference], found)
        for tool, found in pins.items() if tool != reference
    }
    return {"reference": reference, "differences": differences, "unstable": unstable}


def run_tools(case: Case, context: Context) -> dict:
    """Every tool of *case*, every phase, every run: rows of samples, and the pins."""
    requirements, index_url = context.source(case)
    kind = {"compile": compile_case, "sync": sync_case, "download": download_case}[case.kind]
    table = kind.tools(context.bin_dir)
    names = tools_of(case, context)
    runs = context.runs or case.runs
    timeout = context.timeout or case.timeout
    rows: dict[tuple[str, str], dict] = {}
    pins: dict[str, dict[str, str]] = {}
    unstable: dict[str, list[str]] = {}
    given_up: set[str] = set()
    for n in range(1, runs + 1):
        for name in names:
            if name in given_up:
                continue
            work = Path(tempfile.mkdtemp(prefix=f"{case.name}-{name}-", dir=context.tmp))
            job = harness.Job(requirements, index_url, work, case.python, case.universal)
            for phase in case.phases:
                if not kind.supports(table[name], case.python, phase):
                    continue
                command, sample, got = kind.run(name, table[name], job, phase, timeout, case.memory)
                row = rows.setdefault((name, phase), {
                    "tool": name, "phase": phase,
                    "command": context.describe(command, work, index_url), "samples": [],
                })
                if sample.error:
                    sample = dataclasses.replace(sample, error=context.clean(sample.error, work, index_url))
                row["samples"].append(dataclasses.asdict(sample))
                print(
                    f"{case.name} run {n} {name} {phase}: {sample.status} {sample.wall:.2f} s",
                    file=sys.stderr, flush=True,
                )
                if sample.ok and got:
                    if name not in pins:
                        pins[name] = got
                    elif changed := harness.pin_differences(pins[name], got):
                        unstable.setdefault(name, []).append(f"run {n} {phase}: " + "; ".join(changed))
                if not sample.ok:
                    given_up.add(name)
                    break
            shutil.rmtree(work, ignore_errors=True)
    return {
        "tools": names, "runs": runs, "timeout": timeout, "rows": list(rows.values()),
        "pins": pins, "pin_check": _pin_check(pins, unstable),
    }


def run_bytes(case: Case, context: Context) -> dict:
    names = tools_of(case, context)
    timeout = context.timeout or case.timeout
    versions, padding, latency = 30, 20.0, 0.03
    found = bytes_case.run(context.bin_dir, names, versions, padding, latency, timeout)
    rows, stored = [], []
    for row in found:
        sample = dataclasses.asdict(row["sample"])
        command = context.describe(row["command"], Path(tempfile.gettempdir()), None)
        rows.append({"tool": row["tool"], "phase": "cold", "command": command, "samples": [sample]})
        stored.append({**row, "sample": sample, "command": command})
    return {
        "tools": names, "runs": 1, "timeout": timeout, "rows": rows, "bytes": stored,
        "description": bytes_case.title(versions, padding, latency),
    }


def run_http(case: Case, context: Context) -> dict:
    args = ["--remote"]
    result = subprocess.run(
        [str(context.bin_dir / "python"), str(harness.ROOT / "bench" / "http_clients.py"), *args,
         "--index-url", context.default_url],
        # freewheel's transport is measured from this checkout.
        capture_output=True, text=True,
        env=harness.isolated_env(Path.home(), PYTHONPATH=str(harness.ROOT / "src")),
    )
    text = result.stdout + (f"\n(exit {result.returncode})\n{harness.excerpt(result.stderr)}" if result.returncode else "")
    return {"tools": [], "runs": 1, "timeout": 0, "rows": [], "args": args,
            "text": harness.scrub(text, context.default_url)}


def about(case: Case) -> list[str]:
    """The comment lines that open the case's set file: where it comes from, what it exercises."""
    if case.index != "default" or not case.source:
        return []
    lines = []
    for line in (harness.SETS / case.source).read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip())
        if line.endswith("Unchanged below."):
            break  # the rest is the copied file's own comments
    return lines


RUNNERS = {"compile": run_tools, "sync": run_tools, "download": run_tools, "bytes": run_bytes, "http": run_http}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="cases or groups, comma-separated (default: all)")
    parser.add_argument("--tools", help="run only these tools, where a case has them")
    parser.add_argument("--runs", type=int, help="runs per tool and case (default: the case's)")
    parser.add_argument("--timeout", type=float, help="seconds before a run is stopped (default: the case's)")
    parser.add_argument("--json", type=Path, help="write every result here")
    parser.add_argument("--markdown", type=Path, help="write the report here")
    parser.add_argument("--index-url", help="the index of the real-world sets (default: pip's)")
    parser.add_argument("--venv", type=Path, default=harness.DEFAULT_VENV, help="the peers' environment")
    parser.add_argument("--list", action="store_true", help="list the cases and groups, and stop")
    args = parser.parse_args()
    if args.list:
        print(listing())
        return

    cases = select(args.only)
    wanted = {t for c in cases for t in c.tools if args.tools is None or t in args.tools.split(",")}
    bin_dir = harness.peer_venv(args.venv, wanted)
    harness.compile_freewheel()
    if any(c.kind == "http" for c in cases):
        subprocess.run(
            [str(bin_dir / "python"), "-m", "pip", "install", "-q", "-U", *HTTP_LIBRARIES],
            check=True, env=harness.isolated_env(Path.home()),
        )
    started = datetime.datetime.now(datetime.UTC)
    results = {
        "command": shlex.join(["python", "bench/all.py", *sys.argv[1:]]),
        "started": started.strftime("%Y-%m-%d %H:%M"),
        "commit": harness.commit(),
        "machine": harness.machine(),
        "tool_versions": harness.tool_versions(bin_dir, ["freewheel", *sorted(wanted - {"freewheel"})]),
        "index": "`--index-url` (written `$INDEX`)" if args.index_url else
        "pip's default index, read from pip at run time (written `$INDEX`), over the internet",
        "cases": [],
    }
    with tempfile.TemporaryDirectory(prefix="freewheel-bench-") as tmp, ExitStack() as stack:
        context = Context(
            bin_dir, args.index_url or pip_default_index_url(), Path(tmp), stack,
            args.tools.split(",") if args.tools else None, args.runs, args.timeout,
        )
        for case in cases:
            began, load = time.perf_counter(), os.getloadavg()[0]
            outcome = RUNNERS[case.kind](case, context)
            result = {
                **dataclasses.asdict(case), **outcome, "seconds": time.perf_counter() - began,
                "about": about(case),
                # Other work on the machine shows here.
                "load": [load, os.getloadavg()[0]],
            }
            results["cases"].append(result)
            report.print_case(result)
            if args.json:
                # Written after every case, so that an interrupted run keeps what it measured.
                args.json.write_text(json.dumps(results, indent=1) + "\n")
    results["finished"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if args.markdown:
        args.markdown.write_text(report.markdown(results))
    if summary := report.summary_rows(results):
        print("\n" + harness.table(report.SUMMARY_HEADERS, summary))


if __name__ == "__main__":
    main()
