"""Tables and the Markdown report of a ``bench/all.py`` run, from its JSON results.

    python bench/report.py results.json > bench/RESULTS.md

Every number and every claim in the report is computed here from the
results; nothing is written by hand.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import bytes as bytes_case
import harness

RATIO = "freewheel ÷ it"
SUMMARY_HEADERS = ["case", "phase", "freewheel s", "uv s", "freewheel ÷ uv", "goal", "met", "pins"]


def _samples(row: dict) -> list[harness.Sample]:
    return [harness.Sample(**s) for s in row["samples"]]


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def medians(case: dict) -> dict[tuple[str, str], float]:
    """``(tool, phase) -> median wall seconds`` of the rows whose every run succeeded."""
    found = {}
    for row in case["rows"]:
        if (measured := harness.spread(_samples(row))) is not None:
            found[row["tool"], row["phase"]] = measured[1]
    return found


def ratio(case: dict, tool: str, phase: str) -> float | None:
    """freewheel's median over *tool*'s, for *phase*."""
    found = medians(case)
    ours, theirs = found.get(("freewheel", phase)), found.get((tool, phase))
    return None if ours is None or not theirs else ours / theirs


def case_table(case: dict) -> str:
    """One row per tool and phase: result, spread, CPU, memory and the ratio."""
    tree = case.get("memory", False)
    headers = ["tool", "phase", "result", "median s", "min–max s", "CPU s", "peak MiB"]
    headers += ["tree MiB"] if tree else []
    headers += [RATIO]
    rows = []
    for row in case["rows"]:
        samples = _samples(row)
        measured = harness.spread(samples)
        ok = [s for s in samples if s.ok]
        cells = [
            row["tool"],
            row["phase"],
            harness.verdict(samples),
            harness.seconds(measured[1]) if measured else "",
            f"{harness.seconds(measured[0])}–{harness.seconds(measured[2])}" if measured and len(samples) > 1 else "",
            harness.seconds(_median(s.cpu for s in ok)),
            f"{max(s.peak_mib for s in ok):.0f}" if ok else "",
        ]
        if tree:
            cells.append(f"{max(s.tree_mib or 0 for s in ok):.0f}" if ok else "")
        theirs = ratio(case, row["tool"], row["phase"]) if row["tool"] != "freewheel" else None
        cells.append("" if theirs is None else f"{theirs:.2f}")
        rows.append(cells)
    return harness.table(headers, rows)


def pin_summary(case: dict) -> list[str]:
    """Sentences on whether the tools' pins agree, with every difference."""
    check = case.get("pin_check")
    if not check:
        return []
    tools = [t for t in case["pins"]]
    if not tools:
        return ["No tool produced pins."]
    reference = check["reference"]
    what = {"sync": "Installed packages", "download": "Files downloaded"}.get(case["kind"], "Pins")
    lines = []
    same = [t for t in tools if t != reference and not check["differences"].get(t)]
    count = len(case["pins"][reference])
    if len(tools) == 1:
        lines.append(f"Only {reference} produced pins ({count} packages); nothing to compare.")
    elif not any(check["differences"].values()):
        lines.append(f"{what} identical across {', '.join(tools)} ({count} packages).")
    else:
        if same:
            lines.append(f"{what} of {', '.join(same)} identical to {reference}'s ({count} packages).")
        for tool, phrases in check["differences"].items():
            if phrases:
                lines.append(
                    f"{tool} differs from {reference} ({count} packages) in {len(phrases)}: "
                    + "; ".join(phrases) + "."
                )
    for tool, phrases in check.get("unstable", {}).items():
        lines.append(f"{tool}'s pins changed between its own runs or phases: " + "; ".join(phrases) + ".")
    missing = [t for t in case["tools"] if t not in case["pins"]]
    if missing:
        lines.append(f"No pins from {', '.join(missing)} (see the result column).")
    return lines


def print_case(case: dict, out=sys.stdout) -> None:
    """The console form of one case."""
    print(f"\n== {case['name']}: {case['title']} ({case['seconds']:.0f} s)", file=out)
    if case["kind"] == "http":
        print(case["text"], file=out)
        return
    if case["kind"] == "bytes":
        print(_bytes_table(case), file=out)
    else:
        print(case_table(case), file=out)
    for line in pin_summary(case):
        print(line, file=out)


def _bytes_table(case: dict) -> str:
    rows = [dict(r, sample=_samples({"samples": [r["sample"]]})[0]) for r in case["bytes"]]
    return bytes_case.render(rows)


# -- the Markdown report ------------------------------------------------------------


def summary_rows(results: dict) -> list[list[str]]:
    """freewheel against uv, for every case and phase both ran."""
    rows = []
    for case in results["cases"]:
        if case["kind"] in ("http",) or "uv" not in case["tools"]:
            continue
        if case["kind"] == "bytes":
            sent = {r["tool"]: r for r in case["bytes"]}
            if "freewheel" in sent and "uv" in sent:
                ours, theirs = sent["freewheel"]["bytes_sent"], sent["uv"]["bytes_sent"]
                rows.append([
                    case["name"], "bytes read", bytes_case.mib(ours) + " MiB", bytes_case.mib(theirs) + " MiB",
                    f"{ours / theirs:.2f}" if theirs else "", "≤ 1.00", _met(ours / theirs if theirs else None, 1.0), "",
                ])
            continue
        by_row = {(r["tool"], r["phase"]): _samples(r) for r in case["rows"]}
        pins = _pins_word(case)
        for phase in case["phases"]:
            if ("freewheel", phase) not in by_row and ("uv", phase) not in by_row:
                continue
            cells = []
            for tool in ("freewheel", "uv"):
                # A phase missing for a tool that ran the case was skipped after a failure.
                samples = by_row.get((tool, phase), [])
                measured = harness.spread(samples)
                cells.append(harness.seconds(measured[1]) if measured else harness.verdict(samples) if samples else "not run")
            value = ratio(case, "uv", phase)
            goal = case["goals"].get(phase)
            rows.append([
                case["name"], phase, *cells, "" if value is None else f"{value:.2f}",
                "" if goal is None else f"≤ {goal:.2f}", _met(value, goal) if goal is not None else "", pins,
            ])
    return rows


def _met(value: float | None, goal: float | None) -> str:
    if goal is None:
        return ""
    if value is None:
        return "no"
    return "yes" if value <= goal else "no"


def _pins_word(case: dict) -> str:
    check = case.get("pin_check") or {}
    pins = case.get("pins", {})
    if "freewheel" not in pins or "uv" not in pins:
        return "n/a"
    if check.get("reference") == "freewheel":
        differences = check["differences"].get("uv", [])
    else:
        differences = harness.pin_differences(pins["freewheel"], pins["uv"])
    return "same" if not differences else f"{len(differences)} differ"


def _claims(rows: list[list[str]]) -> list[str]:
    """Sentences computed from the summary rows."""
    timed = [r for r in rows if r[1] != "bytes read"]
    both = [r for r in timed if r[4]]
    faster = [r for r in both if float(r[4]) < 1.0]
    goals = [r for r in rows if r[5]]
    met = [r for r in goals if r[6] == "yes"]
    failed = [r for r in timed if not r[4]]
    lines = [
        f"- freewheel was faster than uv in {len(faster)} of the {len(both)} rows where both "
        f"succeeded" + (f" ({', '.join(f'{r[0]} {r[1]}' for r in faster)})" if faster else "") + ".",
    ]
    if both:
        values = sorted(float(r[4]) for r in both)
        lines.append(f"- freewheel ÷ uv ranged from {values[0]:.2f} to {values[-1]:.2f} (median {statistics.median(values):.2f}).")
    lines.append(f"- Goals met: {len(met)} of {len(goals)}.")
    if failed:
        lines.append(
            f"- {len(failed)} row{'s' if len(failed) != 1 else ''} without a ratio (freewheel or uv failed, timed out, or was not run after that): "
            + ", ".join(f"{r[0]} {r[1]}" for r in failed) + "."
        )
    return lines


def _durations(results: dict) -> str:
    rows = [
        [c["name"], ", ".join(c["groups"]), ", ".join(c["tools"]) or "httpx, httpx2",
         str(c["runs"]), f"{c['seconds']:.0f}", "{:.1f} → {:.1f}".format(*c["load"])]
        for c in results["cases"]
    ]
    rows.append(["all", "", "", "", f"{sum(c['seconds'] for c in results['cases']):.0f}", ""])
    return harness.table(["case", "groups", "tools", "runs", "took s", "load average"], rows)


def _commands(case: dict) -> list[str]:
    lines = ["```"]
    seen = set()
    for row in case["rows"]:
        if row["command"] not in seen:
            seen.add(row["command"])
            lines.append(row["command"])
    return lines + ["```"]


def _failures(case: dict) -> list[str]:
    """Each run that did not succeed: how long it ran, what it used, and its last words."""
    lines = []
    for row in case["rows"]:
        for n, sample in enumerate(_samples(row), 1):
            if sample.ok:
                continue
            lines.append(f"{row['tool']} {row['phase']} run {n}: {_used(sample)}" + (":" if sample.error else "."))
            if sample.error:
                lines += ["```", sample.error.strip(), "```"]
    return lines


def _used(sample: harness.Sample) -> str:
    """What a run cost, failed or not."""
    text = f"{sample.status} after {harness.seconds(sample.wall)} s"
    if sample.cpu is not None:
        text += f", CPU {harness.seconds(sample.cpu)} s, peak {sample.peak_mib:.0f} MiB"
    if sample.tree_mib is not None:
        text += f" (tree {sample.tree_mib:.0f} MiB)"
    return text + (f", exit {sample.exit_code}" if sample.exit_code else "")


def memory_rows(results: dict) -> list[list[str]]:
    """Peak memory of freewheel against uv's, for the cases that sample it; a failed or
    stopped run's peak is shown too (what it used until then), without a ratio."""
    rows = []
    for case in results["cases"]:
        if not case.get("memory"):
            continue
        by_row = {(r["tool"], r["phase"]): _samples(r) for r in case["rows"]}
        for phase in case["phases"]:
            cells, peaks = [], []
            for tool in ("freewheel", "uv"):
                samples = by_row.get((tool, phase), [])
                peak = max((s.tree_mib or s.peak_mib or 0 for s in samples), default=None)
                peaks.append(peak if samples and all(s.ok for s in samples) else None)
                cells.append("" if not peak else f"{peak:.0f}" + ("" if all(s.ok for s in samples)
                                                                   else f" ({harness.verdict(samples)})"))
            if any(cells):
                value = peaks[0] / peaks[1] if all(peaks) else None
                rows.append([case["name"], phase, *cells, "" if value is None else f"{value:.2f}"])
    return rows


def _rendered_since(measured: str) -> list[str]:
    """A sentence naming what changed in the repository between the run and this rendering."""
    now = harness.commit()
    if now["commit"] == measured:
        return []
    changed = harness.changed_between(measured, now["commit"])
    return [
        f"Rendered at commit `{now['commit']}`; changed since the run: "
        + (", ".join(f"`{path}`" for path in changed) or "nothing") + "."
    ]


def markdown(results: dict) -> str:
    """The whole report."""
    where = results["commit"]
    changed = where["changed"]
    tools = results["tool_versions"]
    machine = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        "Generated by `bench/report.py` from one run of",
        "",
        f"    {results['command']}",
        "",
        f"at commit `{where['commit']}` ({where['subject']})"
        + (f", with uncommitted changes to {', '.join(changed)}" if changed else ", with no uncommitted changes")
        + f", from {results['started']} to {results.get('finished', '(unfinished)')} (UTC).",
        *_rendered_since(where["commit"]),
        "",
        f"Machine: {machine.get('cpu', 'unknown CPU')}, {machine.get('cores')} cores, "
        f"{machine.get('memory_gib')} GiB RAM, {machine.get('platform')}, {machine.get('python')}.",
        "",
        "Tools: " + "; ".join(f"{name}: {version}" for name, version in tools.items()) + ".",
        "",
        f"Index: {results['index']}.",
        "",
        "Every tool ran with the machine's pip configuration off (`PIP_CONFIG_FILE=/dev/null`, no",
        "`PIP_*`/`UV_*`/`XDG_*` variables, a temporary `HOME`, `--no-config` for freewheel, uv and",
        "pip-compile) and its own cache directory, new for every run: `cold` starts from an empty",
        "cache, the later phases reuse that run's cache.",
        "",
        "Times are wall-clock seconds of the tool's process: the median and the range of the runs.",
        f"`{RATIO}` is freewheel's median over the tool's: below 1.00, freewheel is faster.",
        "`CPU s` is user + system time of the process and its children; `peak MiB` the largest",
        "resident set of any one of them (`ru_maxrss`); `tree MiB` the largest sum over the whole",
        "process group, sampled every 0.1 s. A `timeout` or `failed` run has no time in the",
        "tables; what it cost until it stopped is under its case. The remaining runs and phases",
        "of that tool are skipped (`not run`).",
        "",
        "How to run, and what each case is: `bench/README.md`. This run's cases took (with the",
        "machine's one-minute load average at the start and end of each case: a tool under test",
        "accounts for up to one per core it keeps busy; more means other work ran beside it):",
        "",
        _durations(results),
        "",
        "## freewheel against uv",
        "",
        harness.table(SUMMARY_HEADERS, summary_rows(results)) if summary_rows(results) else "(no case ran both)",
        "",
        *_claims(summary_rows(results)),
        "",
        *(["Peak memory (MiB, the whole process tree, sampled every 0.1 s):", "",
           harness.table(["case", "phase", "freewheel", "uv", "freewheel ÷ uv"], memory_rows(results)), ""]
          if memory_rows(results) else []),
        "## Cases",
    ]
    for case in results["cases"]:
        lines += ["", f"### {case['name']}: {case['title']}", ""]
        if case["kind"] == "http":
            lines += ["Output of `bench/http_clients.py " + " ".join(case["args"]) + "`:", "", "```",
                      case["text"].strip(), "```"]
            continue
        facts = [f"{case['runs']} run(s) per tool", f"timeout {case['timeout']:.0f} s"]
        if case["index"] != "default":
            facts.insert(0, f"synthetic registry `{case['source']}` (`bench/synthetic.py`)")
        elif case["source"]:
            facts.insert(0, f"set `bench/sets/{case['source']}`")
        if case["kind"] == "compile":
            index = "`$INDEX`" if case["index"] == "default" else "127.0.0.1"
            facts.insert(1, f"for Python {case['python']} on Linux, from {index}")
        target = f" Target from {case['note']}." if case["note"] else ""
        lines.append("; ".join(facts) + f"; took {case['seconds']:.0f} s.{target}")
        lines.append("")
        if case.get("about"):
            lines += ["> " + " ".join(case["about"]), ""]
        if case["kind"] == "bytes":
            lines += [case["description"], "", _bytes_table(case)]
        else:
            lines.append(case_table(case))
        lines += ["", *pin_summary(case), "", "Commands:", "", *_commands(case)]
        if failures := _failures(case):
            lines += ["", "Runs that did not succeed (with the last lines of their errors):", "", *failures]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    args = parser.parse_args(argv)
    sys.stdout.write(markdown(json.loads(args.results.read_text())))


if __name__ == "__main__":
    main()
