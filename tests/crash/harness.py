"""Crash harness: SIGKILL the daily work at random points, re-run, compare with a clean run.

A campaign works on a copy of a reference data dir's landing files and configuration (the
reference is a data dir after one clean, uninterrupted daily run). It starts with the
reference's published snapshot in place (the "old" one) and no warehouse, then:

1. **load** — ``cmart load`` in a fork-server child (tests/crash/zygote.py), killed at a random
   moment of the load, many times; each attempt either resumes the previous, interrupted one
   or starts on an empty warehouse. After every kill: the warehouse opens, every file in the
   load manifest has exactly its rows in raw and quarantine, no row of a file outside the
   manifest, the lock is free. Then one load runs to the end.
2. **dbt** — ``cmart run`` (the real CLI, process group killed, dbt subprocess included)
   killed at a random moment after dbt started; then one ``cmart run`` runs to the end and the
   whole state is compared with the reference.
3. **export / publish** — ``python -m cmart.republish`` (the two last assets' functions) in a
   fork-server child, killed at random moments. After every kill: the published snapshot opens
   read-only and is complete, every visible export folder is complete (its manifest's
   checksums match its files). Then one run to the end, compared with the reference, and no
   temporary file or folder may be left behind.

Crash points are read from the children's output (``stage …`` lines of cmart.republish, the
loader's per-file lines, the step of Dagster's log lines and dbt's ``N of M START`` lines) and from
what a kill left on disk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from cmart.locking import WarehouseBusyError, warehouse_lock
from cmart.publish import PUBLISHED_FILE
from cmart.settings import REPO_ROOT, Settings

STAGES = ("load", "dbt", "export", "publish")
FACT_KEYS = {
    "campaign.fct_contact": "contact_id",
    "campaign.fct_response": "response_id",
    "campaign.fct_fulfilment_request": "idempotency_key",
}
MANIFEST_COLUMNS = (
    "source, file, sha256, size_bytes, rows_read, rows_loaded, rows_quarantined, status, message"
)
VOLATILE_MANIFEST_KEYS = ("run_id", "generated_at")
DBT_NODE = re.compile(r"(\d+) of (\d+) (START|OK|PASS|WARN|ERROR|SKIP)\b[^\n]*?([\w.]+)?")
# the step of a Dagster console line: "... - daily - <run id> - [<pid> - ]<step key> - ..."
STEP_LINE = re.compile(r" - [0-9a-f-]{36} - (?:\d+ - )?(\w+) - ")

Progress = Callable[[str], None]


# --- state of a data dir ------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    return con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_schema in (select unnest(?::varchar[])) "
        "order by 1, 2",
        [list(schemas)],
    ).fetchall()


def _count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    row = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
    return int(row[0]) if row else 0


def table_counts(path: Path, schemas: tuple[str, ...]) -> dict[str, int]:
    """Row count of every table of ``schemas`` in a DuckDB file, opened read-only."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {f"{s}.{t}": _count(con, s, t) for s, t in _tables(con, schemas)}


def duplicate_keys(path: Path) -> dict[str, int]:
    """Rows beyond the first per key: raw tables by (_file, _row), facts by their id."""
    found: dict[str, int] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        names = {f"{s}.{t}" for s, t in _tables(con, ("raw", "campaign"))}
        keys = {name: "_file, _row" for name in names if name.startswith("raw.")}
        keys.pop("raw._load_manifest", None)
        keys.pop("raw._validation_result", None)
        keys["raw._quarantine"] = "source, file, row, reason"
        keys["raw._load_manifest"] = "source, file"
        keys.update({name: key for name, key in FACT_KEYS.items() if name in names})
        for name, key in keys.items():
            schema, table = name.split(".")
            row = con.execute(
                f'select count(*) - count(distinct ({key})) from "{schema}"."{table}"'
            ).fetchone()
            found[name] = int(row[0]) if row else 0
    return found


def load_manifest(path: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            f"select {MANIFEST_COLUMNS} from raw._load_manifest order by source, file"
        ).fetchall()


def export_state(exports_dir: Path, day: str) -> tuple[dict[str, str], dict[str, dict]]:
    """sha256 of each list file, and each manifest without its run id and time."""
    files: dict[str, str] = {}
    manifests: dict[str, dict] = {}
    for folder in sorted(exports_dir.glob(f"*/{day}")):
        channel = folder.parent.name
        for name in ("offers.csv", "offers.parquet"):
            if (folder / name).exists():
                files[f"{channel}/{name}"] = _sha256(folder / name)
        if (folder / "_manifest.json").exists():
            content = json.loads((folder / "_manifest.json").read_text())
            manifests[channel] = {
                key: value for key, value in content.items() if key not in VOLATILE_MANIFEST_KEYS
            }
    return files, manifests


def outbox_keys(outbox_dir: Path) -> list[str] | None:
    """Every fulfilment request key in the outbox's visible files (None: no outbox yet)."""
    if not outbox_dir.exists():
        return None
    keys: list[str] = []
    for path in sorted(outbox_dir.rglob("*.jsonl")):
        if any(part.startswith((".", "_")) for part in path.relative_to(outbox_dir).parts):
            continue
        for line in path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                keys.append(str(record.get("idempotency_key") or record.get("response_id")))
    return sorted(keys)


@dataclass
class DataDirState:
    raw_counts: dict[str, int]
    manifest: list[tuple[Any, ...]]
    duplicates: dict[str, int]
    published_counts: dict[str, int]
    export_files: dict[str, str]
    export_manifests: dict[str, dict]
    outbox: list[str] | None

    @classmethod
    def of(cls, settings: Settings) -> DataDirState:
        day = settings.run_date.isoformat()
        files, manifests = export_state(settings.exports_dir, day)
        published = settings.published_dir / PUBLISHED_FILE
        return cls(
            raw_counts=table_counts(settings.warehouse_path, ("raw",)),
            manifest=load_manifest(settings.warehouse_path),
            duplicates=duplicate_keys(settings.warehouse_path),
            published_counts=(
                table_counts(published, PUBLISHED_SCHEMAS) if published.exists() else {}
            ),
            export_files=files,
            export_manifests=manifests,
            outbox=outbox_keys(settings.outbox_dir),
        )


PUBLISHED_SCHEMAS = ("core", "campaign", "decisioning", "reporting", "config")


def differences(reference: DataDirState, got: DataDirState) -> list[str]:
    """What differs between a crashed-then-resumed data dir and the clean reference."""
    problems = []
    for name in ("raw_counts", "manifest", "published_counts", "export_files", "export_manifests"):
        want, have = getattr(reference, name), getattr(got, name)
        if want != have:
            if isinstance(want, dict):
                keys = sorted(set(want) | set(have))
                diff = {k: (want.get(k), have.get(k)) for k in keys if want.get(k) != have.get(k)}
                problems.append(f"{name} differs (reference, crashed): {diff}")
            else:
                problems.append(f"{name} differs: {set(want) ^ set(have)}")
    dupes = {name: n for name, n in got.duplicates.items() if n}
    if dupes:
        problems.append(f"duplicate keys: {dupes}")
    if reference.outbox is not None or got.outbox is not None:
        have_keys = got.outbox or []
        repeated = [key for key, n in Counter(have_keys).items() if n > 1]
        if repeated:
            problems.append(f"fulfilment requests written twice: {repeated[:10]}")
        if sorted(set(reference.outbox or [])) != sorted(set(have_keys)):
            problems.append("fulfilment request keys differ from the clean run's")
    return problems


# --- invariants that must hold right after any kill -------------------------------------------


def loads_are_atomic(warehouse: Path) -> list[str]:
    """Every manifest file has exactly its rows in raw and quarantine; no rows of other files."""
    if not warehouse.exists():
        return []
    problems: list[str] = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = {t for s, t in _tables(con, ("raw",))}
        if "_load_manifest" not in names:
            return []
        manifest = con.execute(
            "select source, file, rows_loaded, rows_quarantined from raw._load_manifest"
        ).fetchall()
        listed = {(source, file) for source, file, _, _ in manifest}
        for source, file, loaded, quarantined in manifest:
            if source in names:
                row = con.execute(
                    f'select count(*) from raw."{source}" where _file = ?', [file]
                ).fetchone()
                if row and row[0] != loaded:
                    problems.append(f"raw.{source} has {row[0]} rows of {file}, manifest {loaded}")
            row = con.execute(
                "select count(*) from raw._quarantine where source = ? and file = ?",
                [source, file],
            ).fetchone()
            if row and row[0] != quarantined:
                problems.append(f"quarantine has {row[0]} rows of {file}, manifest {quarantined}")
        for source in names - {"_load_manifest", "_quarantine", "_validation_result"}:
            for (file,) in con.execute(f'select distinct _file from raw."{source}"').fetchall():
                if (source, file) not in listed:
                    problems.append(f"raw.{source} holds rows of {file}, not in the manifest")
        quarantined = con.execute("select distinct source, file from raw._quarantine").fetchall()
        for source, file in quarantined:
            if (source, file) not in listed:
                problems.append(f"quarantine holds rows of {file}, not in the manifest")
    return problems


def published_is_complete(published: Path, expected: dict[str, int]) -> list[str]:
    """The analysts' file opens read-only and holds every table with the expected rows."""
    if not published.exists():
        return [f"{published} is missing"]
    try:
        counts = table_counts(published, PUBLISHED_SCHEMAS)
    except duckdb.Error as error:
        return [f"{published} cannot be read: {error}"]
    if counts != expected:
        missing = sorted(set(expected) - set(counts))
        wrong = {k: (n, counts[k]) for k, n in expected.items() if counts.get(k, n) != n}
        return [f"published snapshot incomplete: missing {missing[:5]}, wrong counts {wrong}"]
    return []


def exports_are_complete(exports_dir: Path, day: str) -> list[str]:
    """Every visible export folder holds its three files and its manifest's checksums match."""
    problems = []
    for folder in sorted(exports_dir.glob(f"*/{day}")):
        manifest_path = folder / "_manifest.json"
        if not manifest_path.exists():
            problems.append(f"{folder} has no manifest")
            continue
        manifest = json.loads(manifest_path.read_text())
        for name, digest in manifest["files"].items():
            if not (folder / name).exists() or _sha256(folder / name) != digest:
                problems.append(f"{folder}/{name} does not match its manifest")
    return problems


def lock_is_free(warehouse_dir: Path) -> list[str]:
    try:
        with warehouse_lock(warehouse_dir, what="crash harness check"):
            return []
    except WarehouseBusyError as error:
        return [f"stale lock after the kill: {error}"]


def leftovers(settings: Settings) -> list[str]:
    """Temporary files and folders a writer leaves while it works (dot-names)."""
    found = []
    day = settings.run_date.isoformat()
    for channel in sorted(settings.exports_dir.glob("*")):
        found += [str(p) for p in channel.glob(f".{day}*")]
    found += [str(p) for p in settings.published_dir.glob(f".{PUBLISHED_FILE}*")]
    return found


# --- processes -----------------------------------------------------------------------------------


def child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["CMART_DATA_DIR"] = str(settings.data_dir)
    env["CMART_RUN_DATE"] = settings.run_date.isoformat()
    env["DAGSTER_HOME"] = str(settings.dagster_home)
    env["GX_ANALYTICS_ENABLED"] = "false"
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Zygote:
    """The fork server of tests/crash/zygote.py: children start in milliseconds."""

    def __init__(self, settings: Settings) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.crash.zygote"],
            cwd=REPO_ROOT,
            env=child_env(settings),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._read(timeout=300)  # {"ready": pid} once the imports are done

    def _read(self, timeout: float) -> dict[str, Any] | None:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"crash zygote died (exit {self.process.poll()})")
        return json.loads(line)

    def start(self, entry: str, argv: list[str], log: Path) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"entry": entry, "argv": argv, "log": str(log)}))
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        answer = self._read(timeout=60)
        assert answer and "pid" in answer, answer
        return int(answer["pid"])

    def wait(self, timeout: float) -> dict[str, Any] | None:
        return self._read(timeout)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _kill_group(process: subprocess.Popen) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the dbt subprocess too: the group must be gone
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    raise AssertionError(f"processes of group {process.pid} survived SIGKILL")


# --- the campaign ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kill:
    stage: str  # load, dbt, export, publish
    point: str  # where exactly, from the child's output and what it left on disk
    after_seconds: float


@dataclass
class CrashReport:
    seed: int
    kills: list[Kill] = field(default_factory=list)
    completions: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def stages_hit(self) -> Counter[str]:
        return Counter(kill.stage for kill in self.kills)

    def summary(self) -> str:
        points = Counter(f"{kill.stage}: {kill.point}" for kill in self.kills)
        lines = [
            f"crash campaign seed={self.seed}: {len(self.kills)} kills in {self.seconds:.0f}s, "
            f"by stage {dict(self.stages_hit())}, runs to the end {dict(self.completions)}",
            *(f"  {n:>3} × {point}" for point, n in sorted(points.items())),
        ]
        if self.problems:
            lines += ["PROBLEMS:", *(f"  {problem}" for problem in self.problems)]
        return "\n".join(lines)


@dataclass(frozen=True)
class Plan:
    load_kills: int = 14
    dbt_kills: int = 2
    export_kills: int = 16
    dbt_kill_window: tuple[float, float] = (1.0, 40.0)  # seconds after dbt's first node
    run_timeout: float = 900.0


def prepare_crash_dir(reference: Settings, data_dir: Path) -> Settings:
    """Landing files and configuration of the reference, its published snapshot, nothing else."""
    settings = dataclasses.replace(reference, data_dir=data_dir)
    shutil.copytree(reference.landing_dir, settings.landing_dir)
    if reference.config_override_dir.exists():
        shutil.copytree(reference.config_override_dir, settings.config_override_dir)
    settings.published_dir.mkdir(parents=True)
    if (reference.published_dir / PUBLISHED_FILE).exists():
        shutil.copy2(reference.published_dir / PUBLISHED_FILE, settings.published_dir)
    return settings


class Campaign:
    def __init__(
        self, reference: Settings, settings: Settings, seed: int, plan: Plan, progress: Progress
    ) -> None:
        self.settings = settings
        self.plan = plan
        self.rng = random.Random(seed)
        self.progress = progress
        self.report = CrashReport(seed=seed)
        self.reference = DataDirState.of(reference)
        self.logs = settings.data_dir / "crash_logs"
        self.logs.mkdir(exist_ok=True)
        self.day = settings.run_date.isoformat()
        self._attempt = 0

    # -- bookkeeping

    def _log(self, name: str) -> Path:
        self._attempt += 1
        return self.logs / f"{self._attempt:03d}_{name}.log"

    def _check(self, label: str, problems: list[str]) -> None:
        self.report.problems += [f"{label}: {problem}" for problem in problems]

    def _after_kill(self, kill: Kill) -> None:
        self.report.kills.append(kill)
        self.progress(f"kill {len(self.report.kills)}: {kill.stage} — {kill.point}")
        label = f"after kill {len(self.report.kills)} ({kill.stage}: {kill.point})"
        self._check(label, lock_is_free(self.settings.warehouse_dir))
        self._check(label, loads_are_atomic(self.settings.warehouse_path))
        published = self.settings.published_dir / PUBLISHED_FILE
        if self.reference.published_counts or published.exists():
            self._check(label, published_is_complete(published, self.reference.published_counts))
        self._check(label, exports_are_complete(self.settings.exports_dir, self.day))

    # -- stage 1: loads

    def _load_argv(self) -> list[str]:
        return ["--data-dir", str(self.settings.data_dir)]

    def _timed_zygote_run(self, zygote: Zygote, entry: str, argv: list[str]) -> float:
        log = self._log(f"{entry}_complete")
        started = time.monotonic()
        zygote.start(entry, argv, log)
        answer = zygote.wait(self.plan.run_timeout)
        took = time.monotonic() - started
        if not answer or answer.get("code") != 0:
            self.report.problems.append(f"{entry} run to the end failed: {answer}; see {log}")
        self.report.completions[entry] += 1
        return took

    def _kill_in_zygote(
        self, zygote: Zygote, entry: str, argv: list[str], window: float, marker: str = ""
    ) -> bool:
        """Start a child, SIGKILL it after a random delay (counted from ``marker`` in its
        output, if given); False if it finished first."""
        log = self._log(entry)
        delay = self.rng.uniform(0.0, window if not marker else min(window, 0.2))
        started = time.monotonic()
        pid = zygote.start(entry, argv, log)
        armed = None if marker else started
        while True:
            answer = zygote.wait(0.02)
            if answer is not None:  # finished before the kill
                if answer.get("code") != 0:
                    self.report.problems.append(f"{entry} failed without a kill: {answer}; {log}")
                self.report.completions[entry] += 1
                return False
            if armed is None and marker in log.read_text(errors="replace"):
                armed = time.monotonic()
            if armed is not None and time.monotonic() - armed >= delay:
                break
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        answer = zygote.wait(60)
        assert answer and answer.get("exited") == pid, answer
        elapsed = time.monotonic() - started
        if answer.get("signal") != signal.SIGKILL:  # it ended just before the signal
            self.report.completions[entry] += 1
            return False
        stage, point = self._zygote_point(entry, log.read_text(errors="replace"))
        self._after_kill(Kill(stage, point, elapsed))
        return True

    def _zygote_point(self, entry: str, output: str) -> tuple[str, str]:
        lines = [line for line in output.splitlines() if line.strip()]
        if entry == "load":
            done = [line for line in lines if re.search(r"\.(csv|gz|jsonl|parquet): ", line)]
            last = done[-1].split(":")[0] if done else "no file yet"
            return "load", f"{len(done)} file(s) done, last {last}"
        markers = [line for line in lines if line.startswith("stage ")]
        last = markers[-1] if markers else "stage start"
        if last.startswith(("stage publish", "stage published", "stage done")):
            left = [p for p in leftovers(self.settings) if PUBLISHED_FILE in p]
            note = " (staged file left)" if left else ""
            return "publish", f"{last.removeprefix('stage ')}{note}"
        left = [p for p in leftovers(self.settings) if PUBLISHED_FILE not in p]
        channel = last.split()[-1] if last.startswith("stage export") else ""
        what = "writing" if last.startswith("stage export ") else "between channels"
        if last in ("stage start", "stage start republish"):
            what = "before the first channel"
        note = " (temp folder left)" if left else ""
        return "export", f"{what}{' ' + channel if channel else ''}{note}"

    def loads(self, zygote: Zygote) -> None:
        warehouse = self.settings.warehouse_dir
        # one clean load measures how long a load takes, then start again from nothing
        window = self._timed_zygote_run(zygote, "load", self._load_argv())
        shutil.rmtree(warehouse)
        kills = attempts = 0
        while kills < self.plan.load_kills and attempts < self.plan.load_kills * 4:
            attempts += 1
            if self._kill_in_zygote(zygote, "load", self._load_argv(), window):
                kills += 1
                if self.rng.random() < 0.3:  # sometimes resume, sometimes start over
                    shutil.rmtree(warehouse, ignore_errors=True)
            else:
                shutil.rmtree(warehouse, ignore_errors=True)
        self._timed_zygote_run(zygote, "load", self._load_argv())
        state_raw = table_counts(self.settings.warehouse_path, ("raw",))
        if state_raw != self.reference.raw_counts:
            self.report.problems.append(
                f"raw counts after interrupted loads differ: {state_raw} vs "
                f"{self.reference.raw_counts}"
            )
        if load_manifest(self.settings.warehouse_path) != self.reference.manifest:
            self.report.problems.append("load manifest after interrupted loads differs")

    # -- stage 2: dbt inside `cmart run`

    def _cmart_run(self, log: Path) -> subprocess.Popen:
        command = [
            str(Path(sys.executable).parent / "cmart"),
            "run",
            "--data-dir",
            str(self.settings.data_dir),
            "--run-date",
            self.day,
            "--log-level",
            "INFO",
        ]
        with log.open("w") as handle:
            return subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=child_env(self.settings),
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _run_point(self, output: str) -> tuple[str, str]:
        steps = STEP_LINE.findall(output)
        step = steps[-1] if steps else ""
        nodes = DBT_NODE.findall(output)
        if step.startswith("published"):
            return "publish", "inside cmart run"
        if nodes and (step == "dbt_models" or step.startswith(("raw", "config"))):
            return "dbt", f"node {nodes[-1][0]} of {nodes[-1][1]} {nodes[-1][2]}"
        if nodes:  # a step after dbt: channel lists and the other files the run writes
            return "export", f"inside cmart run ({step})"
        if step.startswith(("raw", "config")):
            return "load", f"inside cmart run ({step})"
        return "startup", f"before dbt ({step or 'no step yet'})"

    def dbt_kills(self) -> None:
        kills = attempts = 0
        while kills < self.plan.dbt_kills and attempts < self.plan.dbt_kills + 2:
            attempts += 1
            log = self._log("cmart_run_dbt")
            started = time.monotonic()
            process = self._cmart_run(log)
            dbt_started = None
            kill_after = self.rng.uniform(*self.plan.dbt_kill_window)
            while process.poll() is None and time.monotonic() - started < self.plan.run_timeout:
                if dbt_started is None and DBT_NODE.search(log.read_text(errors="replace")):
                    dbt_started = time.monotonic()
                if dbt_started is not None and time.monotonic() - dbt_started >= kill_after:
                    break
                time.sleep(0.2)
            if process.poll() is not None:
                self.report.completions["cmart run"] += 1
                if process.returncode != 0:
                    self.report.problems.append(f"cmart run failed without a kill; see {log}")
                continue
            _kill_group(process)
            stage, point = self._run_point(log.read_text(errors="replace"))
            self._after_kill(Kill(stage, point, time.monotonic() - started))
            kills += 1

    def run_to_the_end(self) -> None:
        log = self._log("cmart_run_complete")
        process = self._cmart_run(log)
        try:
            process.wait(timeout=self.plan.run_timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
        self.report.completions["cmart run"] += 1
        if process.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:]
            self.report.problems.append(f"cmart run after the kills failed ({log}):\n{tail}")
            return
        self.compare("after interrupted loads and dbt builds")

    def compare(self, label: str) -> None:
        got = DataDirState.of(self.settings)
        self._check(label, differences(self.reference, got))
        self._check(label, [f"left behind: {path}" for path in leftovers(self.settings)])

    # -- stage 3: exports and publish

    def exports(self, zygote: Zygote) -> None:
        argv = ["--data-dir", str(self.settings.data_dir), "--run-date", self.day]
        window = self._timed_zygote_run(zygote, "republish", argv)
        lines = (self.logs / f"{self._attempt:03d}_republish_complete.log").read_text()
        channels = re.findall(r"^stage export (\w+)$", lines, flags=re.MULTILINE)
        markers = [*(f"stage export {code}" for code in channels), *["stage publish"] * 3]
        kills = attempts = 0
        while kills < self.plan.export_kills and attempts < self.plan.export_kills * 4:
            attempts += 1
            if channels and self.rng.random() < 0.25:  # a first write, not a replacement
                gone = self.settings.exports_dir / self.rng.choice(channels) / self.day
                shutil.rmtree(gone, ignore_errors=True)
            # half the kills at a random moment, half just after a random step began
            marker = self.rng.choice(markers) if self.rng.random() < 0.5 else ""
            hit = self.report.stages_hit()
            if kills >= self.plan.export_kills - 2:  # the last ones aim at a stage not hit yet
                marker = next((f"stage {s}" for s in ("publish", "export") if not hit[s]), marker)
            kills += self._kill_in_zygote(zygote, "republish", argv, window, marker)
        self._timed_zygote_run(zygote, "republish", argv)
        self.compare("after interrupted exports and publishes")

    def run(self) -> CrashReport:
        started = time.monotonic()
        zygote = Zygote(self.settings)
        try:
            self.progress(f"crash campaign seed={self.report.seed} in {self.settings.data_dir}")
            self.loads(zygote)
            self.dbt_kills()
            self.run_to_the_end()
            self.exports(zygote)
        finally:
            zygote.close()
            self.report.seconds = time.monotonic() - started
        return self.report


def run_campaign(
    reference: Settings, data_dir: Path, seed: int, plan: Plan, progress: Progress = print
) -> CrashReport:
    settings = prepare_crash_dir(reference, data_dir)
    return Campaign(reference, settings, seed, plan, progress).run()
