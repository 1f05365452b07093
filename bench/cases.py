"""Every benchmark case ``bench/all.py`` knows: what work, for which tools,
in which phases, how many runs, and which issue's goal it checks."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Case:
    """One piece of work, done by each tool in the same run.

    ``kind`` is ``compile`` (``bench/compile.py``), ``sync``
    (``bench/sync.py``), ``download`` (``bench/download.py``), ``bytes`` (``bench/bytes.py``) or ``http``
    (``bench/http_clients.py``). ``source`` is a file in ``bench/sets``, or
    for the synthetic registries of ``bench/synthetic.py`` their shape
    (``small``/``large``). ``index`` is ``default`` (pip's default index),
    ``local`` or ``local-meta`` (a synthetic registry on 127.0.0.1 without
    and with PEP 658 metadata files). ``goals`` maps a phase to the most
    freewheel may take, as a multiple of uv's median (from the issue named
    in ``note``). ``memory`` samples the resident memory of the whole
    process tree as well. ``universal`` resolves for every platform and
    every Python from ``python`` up (``pip compile --universal``, the
    resolution ``freewheel lock`` makes). ``immutable_files`` serves a
    synthetic registry's files with the ``Cache-Control`` real indexes send
    (immutable for a year): without it uv cannot tell that an sdist is
    unchanged, and builds it again in every warm run.
    """

    name: str
    kind: str
    title: str
    groups: tuple[str, ...]
    source: str = ""
    index: str = "default"
    python: str = "3.11"
    phases: tuple[str, ...] = ("cold", "warm")
    tools: tuple[str, ...] = ("freewheel", "uv")
    runs: int = 3
    timeout: float = 600
    goals: dict[str, float] = dataclasses.field(default_factory=dict)
    memory: bool = False
    universal: bool = False
    immutable_files: bool = False
    note: str = ""


COMPILE_PEERS = ("freewheel", "uv", "pip-compile", "pdm", "poetry")

CASES = (
    Case(
        "trio", "compile", "pip compile of uv's trio set", ("compile", "issue11"),
        source="trio.in", phases=("cold", "warm", "offline"),
        tools=("freewheel", "uv", "pip-compile"), goals={"cold": 1.0, "offline": 4.0},
        note="issue 11: cold <= 1.0x uv, warm --offline <= 4x uv",
    ),
    Case(
        "jupyter", "compile", "pip compile of uv's jupyter set", ("compile", "issue11"),
        source="jupyter.in", phases=("cold", "warm", "offline"),
        tools=("freewheel", "uv", "pip-compile"), goals={"cold": 1.0, "offline": 4.0},
        note="issue 11: cold <= 1.0x uv, warm --offline <= 4x uv",
    ),
    Case(
        "sync-jupyter", "sync", "pip sync of jupyter's 97 pins into a new venv", ("install", "issue11"),
        source="jupyter.txt", phases=("cold", "warm", "noop"), tools=("freewheel", "uv", "pip"),
        goals={"cold": 1.5, "warm": 1.5, "noop": 2.0},
        note="issue 11: cold <= 1.5x uv, warm <= 1.5x uv, nothing to do <= 2x uv",
    ),
    Case(
        "sync-web", "sync", "pip sync of a web service's 70 pins into a new venv", ("install",),
        source="install.txt", phases=("cold", "warm", "noop"),
    ),
    Case(
        "dagster", "compile", "pip compile of dagster + dagster-webserver", ("large-graphs", "issue11"),
        source="dagster.in", phases=("cold",), goals={"cold": 1.5},
        note="issue 11: cold <= 1.5x uv",
    ),
    Case(
        "airflow-celery", "compile", "pip compile of apache-airflow[celery,postgres]",
        ("large-graphs", "issue11"), source="airflow-celery.in", phases=("cold",), goals={"cold": 1.5},
        note="issue 11: cold <= 1.5x uv",
    ),
    Case(
        "scrapy", "compile", "pip compile of scrapy", ("large-graphs", "issue11"),
        source="scrapy.in", phases=("cold",), goals={"cold": 1.0},
        note="issue 11: cold compiles <= 1.0x uv",
    ),
    Case(
        "airflow", "compile", "pip compile of uv's airflow set for Python 3.11.0 (time and peak memory)",
        ("large-graphs", "memory", "issue11", "issue9"), source="airflow.in", python="3.11.0",
        phases=("cold", "offline"), runs=1, memory=True,
        note=(
            "issues 9 and 11: peak memory next to uv's; 3.11.0 because uv reads 3.11 as that release; "
            "the same pins as uv (issue 9)"
        ),
    ),
    Case(
        "universal-jupyter", "compile", "universal pip compile of uv's jupyter set from Python 3.9",
        ("universal", "issue10"), source="jupyter.in", python="3.9", universal=True,
        phases=("cold", "warm", "offline"), memory=True,
        note="issue 10: a universal lock of a real set against uv, cold and warm, with peak memory",
    ),
    Case(
        "universal-airflow", "compile", "universal pip compile of uv's airflow set from Python 3.11",
        ("universal", "issue10", "large-graphs"), source="airflow.in", python="3.11", universal=True,
        phases=("cold", "offline"), runs=1, memory=True,
        note="issue 10: a universal lock of a large real set against uv, cold and warm, with peak memory",
    ),
    Case(
        "boto3-urllib3", "compile", "the long walk back: boto3 + urllib3>=2 for Python 3.9",
        ("solver", "issue7"), source="boto3-urllib3.in", python="3.9", phases=("cold", "offline"),
        runs=1, goals={"cold": 1.0},
        note="issue 7: the same pins as uv in no more time than uv",
    ),
    Case(
        "moto-types-requests", "compile",
        "CPU-bound backtracking: moto + types-requests for Python 3.9", ("solver", "issue7"),
        source="moto-types-requests.in", python="3.9", phases=("cold", "warm", "offline"),
        # Three runs: one offline sample of freewheel ranged from 1.25 to
        # 1.80 s between runs of one afternoon, uv's from 0.97 to 1.04 s.
        runs=3, goals={"warm": 1.5, "offline": 1.5},
        note="issue 7: <= 1.5x uv on CPU-bound backtracks, an answer no older than uv's",
    ),
    Case(
        "boto3-last", "compile", "resolution quality: jupyterlab pandas ... boto3",
        ("solver", "issue7"), source="boto3-last.in", phases=("cold", "offline"), runs=1,
        note="issue 7: keeps boto3 newest and resolves in seconds (uv walks boto3 back)",
    ),
    Case(
        "small", "compile", "pip compile of bench/sets/small.in", ("compile", "peers"),
        source="small.in", tools=COMPILE_PEERS,
    ),
    Case(
        "large", "compile", "pip compile of bench/sets/large.in", ("compile", "peers"),
        source="large.in", tools=COMPILE_PEERS,
    ),
    *(
        Case(
            f"{index}-{shape}", "compile",
            f"synthetic {shape} registry on 127.0.0.1, 30 ms per response, "
            + ("with" if index == "local-meta" else "no") + " metadata files",
            ("synthetic",), source=shape, index=index, tools=COMPILE_PEERS,
        )
        for index in ("local", "local-meta")
        for shape in ("small", "large")
    ),
    Case(
        "local-sdists", "compile",
        "synthetic small registry on 127.0.0.1 with three sdist-only projects (setup.py, built "
        "by setuptools from the registry), 30 ms per response, with metadata files",
        ("synthetic", "builds", "issue9"), source="sdists", index="local-meta", immutable_files=True,
        note="issue 9: the build path, resolving three sdist-only packages, cold and warm, against uv",
    ),
    *(
        Case(
            name, "download",
            f"a wheelhouse of {what} for 3 Pythons x 3 platforms: one freewheel pip download "
            "against the serial loop of 9 pip downloads", ("download", "issue12"),
            source=source, index=index, tools=("freewheel", "pip"), runs=1,
            note="issue 12: one multi-target pip download against the serial loop it replaces",
        )
        for name, what, source, index in (
            ("download-small", "bench/sets/small.in", "small.in", "default"),
            ("download-local", "a synthetic small registry", "small", "local-meta"),
        )
    ),
    Case(
        "bytes", "bytes", "bytes read backtracking on a nightly-style index without metadata",
        ("bytes", "issue11"), tools=("freewheel", "uv", "pip-compile"), phases=("cold",), runs=1,
        note="issue 11: bytes read <= uv's",
    ),
    Case(
        "http", "http", "HTTP client libraries (the measurement behind freewheel's choice)",
        ("http",), tools=(), phases=(), runs=1,
    ),
)
