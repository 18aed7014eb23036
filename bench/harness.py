"""The benchmark harness: the daily run of campaign-mart against the hand-written baseline.

For each size, on one generated world: `cmart generate`, then `cmart run` (the `daily` Dagster
job in-process, exactly what an operator runs) and `bench/baseline.py`, each in its own
subprocess, timed with its peak memory (RSS of the whole process tree, dbt included). Per-stage
times of ours come from the Dagster run's step events in the instance's event log, the decide
time from dbt's run_results.json. Both sides' channel files are compared row for row on
(customer_id, offer_id, channel). Then a day of new responses lands and the incremental daily
run is timed against the full one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from cmart.settings import REPO_ROOT, Settings

if TYPE_CHECKING:
    from cmart.config import CampaignConfig

BASELINE_SCRIPT = Path(__file__).resolve().parent / "baseline.py"
RUN_DATE = dt.date(2026, 11, 29)
FULL_SIZE = 10_000_000
DEFAULT_MEMORY_LIMIT = "8GB"  # dbt_project/profiles.yml's default for CMART_DUCKDB_MEMORY_LIMIT
STAGES = ("generate", "load", "dbt build", "decide", "export", "publish", "report", "other")
SAMPLE_SECONDS = 0.2
HEARTBEAT_SECONDS = 60.0
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# --- measuring a subprocess ----------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """A finished subprocess: wall time, peak RSS of its process tree (sampled sum of every
    live descendant) and the largest single process's peak RSS (wait4, descendants included)."""

    command: list[str]
    seconds: float
    cpu_seconds: float  # user + system, the process and every descendant it waited for
    peak_tree_rss_bytes: int
    max_process_rss_bytes: int
    returncode: int
    log: str


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants right now."""
    tree = _children()
    pending, total = [root], 0
    while pending:
        pid = pending.pop()
        try:
            resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += resident * PAGE_SIZE
        pending.extend(tree.get(pid, []))
    return total


def run_measured(
    command: Sequence[str],
    log: Path,
    *,
    env: dict[str, str] | None = None,
    heartbeat: Callable[[str], None] | None = None,
) -> Measured:
    """Run `command` to completion, output to `log`; time it and sample its tree's RSS. With
    `heartbeat`, say every minute that it is still running (elapsed time, RSS, load)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    peak = 0
    done = threading.Event()
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(
            list(command), stdout=output, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT
        )

        def sample() -> None:
            nonlocal peak
            next_beat = HEARTBEAT_SECONDS
            while not done.is_set():
                current = _tree_rss(process.pid)
                peak = max(peak, current)
                elapsed = time.perf_counter() - started
                if heartbeat is not None and elapsed >= next_beat:
                    heartbeat(
                        f"  ... {log.stem} running {elapsed / 60:.0f} min, RSS {_gib(current)} "
                        f"GiB, load {os.getloadavg()[0]:.1f}"
                    )
                    next_beat += HEARTBEAT_SECONDS
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        command=list(command),
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_tree_rss_bytes=peak,
        max_process_rss_bytes=usage.ru_maxrss * 1024,
        returncode=process.returncode,
        log=str(log),
    )


def _checked(measured: Measured, what: str) -> Measured:
    if measured.returncode != 0:
        tail = Path(measured.log).read_text()[-3000:]
        raise RuntimeError(
            f"{what} failed (exit {measured.returncode}); log {measured.log}:\n{tail}"
        )
    return measured


# --- reading our run's own timings ---------------------------------------------------------------


def stage_of_step(step_key: str) -> str:
    """Which benchmark stage a step of the `daily` job belongs to."""
    if step_key == "configuration" or step_key.startswith("raw__"):
        return "load"
    for marker, stage in (("dbt", "dbt build"), ("report", "report"), ("export", "export")):
        if marker in step_key:
            return stage
    if step_key.startswith("published"):
        return "publish"
    return "other"


@dataclass(frozen=True)
class RunSteps:
    run_id: str
    run_seconds: float  # the Dagster run, start to end
    steps: dict[str, float]  # step key -> seconds


def read_run_steps(dagster_home: Path) -> RunSteps:
    """Step start/end times of the latest `daily` run, from the instance's event log."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="daily"), limit=1)
        if not runs:
            raise RuntimeError(f"no `daily` run in the Dagster instance at {dagster_home}")
        run_id = runs[0].run_id
        stats = instance.get_run_stats(run_id)
        steps = {
            step.step_key: (step.end_time or step.start_time or 0) - (step.start_time or 0)
            for step in instance.get_run_step_stats(run_id)
        }
    finally:
        instance.dispose()
    run_seconds = (stats.end_time or 0) - (stats.start_time or 0)
    return RunSteps(run_id=run_id, run_seconds=run_seconds, steps=steps)


def slowest_nodes(target_dir: Path, count: int = 12) -> list[tuple[str, float]]:
    """The dbt nodes (models, tests, ...) that took longest in the build: the profile of the
    slowest stage."""
    results = json.loads((target_dir / "run_results.json").read_text())["results"]
    timed = sorted(
        ((result["unique_id"], float(result["execution_time"])) for result in results),
        key=lambda item: -item[1],
    )
    return [
        (".".join([node.split(".")[0], node.split(".")[2]]), round(seconds, 1))
        for node, seconds in timed[:count]
    ]


def dbt_time_by_kind(target_dir: Path) -> dict[str, float]:
    """Sum of dbt's execution times per node kind (model, test, unit_test, seed, snapshot)
    and the build's own elapsed time (nodes run two at a time: sums exceed elapsed)."""
    content = json.loads((target_dir / "run_results.json").read_text())
    kinds: dict[str, float] = {"elapsed": float(content["elapsed_time"])}
    for result in content["results"]:
        kind = result["unique_id"].split(".")[0]
        kinds[kind] = kinds.get(kind, 0.0) + float(result["execution_time"])
    return {kind: round(seconds, 1) for kind, seconds in kinds.items()}


@dataclass(frozen=True)
class DecideTime:
    seconds: float  # the decisioning models and the intermediate models only they use
    models: list[str]
    lineage_seconds: float  # every model the decisioning models read, transitively, and them
    lineage_models: list[str]


def _model_children(manifest: dict) -> dict[str, set[str]]:
    return {
        node: {child for child in children if child.startswith("model.")}
        for node, children in manifest["child_map"].items()
        if node.startswith("model.")
    }


def decide_models(manifest: dict) -> list[str]:
    """Models of marts/decisioning, plus intermediate models whose every child model is one
    of these (repeatedly): the work that exists only to decide."""
    nodes = manifest["nodes"]
    children = _model_children(manifest)
    chosen = {node for node in children if "decisioning" in nodes[node]["fqn"][1:-1]}
    grew = True
    while grew:
        grew = False
        for node, kids in children.items():
            intermediate = "intermediate" in nodes[node]["fqn"][1:-1]
            if intermediate and node not in chosen and kids and kids <= chosen:
                chosen.add(node)
                grew = True
    return sorted(chosen)


def lineage_models(manifest: dict, roots: Iterable[str]) -> list[str]:
    """`roots` and every model they read, transitively."""
    parents = manifest["parent_map"]
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        node = pending.pop()
        if node in seen or not node.startswith("model."):
            continue
        seen.add(node)
        pending.extend(parents.get(node, []))
    return sorted(seen)


def read_decide_time(target_dir: Path) -> DecideTime:
    """Sum dbt's execution times of the decide models (run_results.json of the build)."""
    manifest = json.loads((target_dir / "manifest.json").read_text())
    results = json.loads((target_dir / "run_results.json").read_text())["results"]
    seconds = {result["unique_id"]: float(result["execution_time"]) for result in results}
    decide = decide_models(manifest)
    nbo_like = [node for node in decide if "decisioning" in manifest["nodes"][node]["fqn"]]
    lineage = lineage_models(manifest, nbo_like)
    return DecideTime(
        seconds=sum(seconds.get(node, 0.0) for node in decide),
        models=[node.split(".")[-1] for node in decide],
        lineage_seconds=sum(seconds.get(node, 0.0) for node in lineage),
        lineage_models=[node.split(".")[-1] for node in lineage],
    )


def rerun_decide(settings: Settings, models: Sequence[str], log: Path) -> float:
    """`dbt run` of the decide models alone on the built warehouse (nothing else running in
    the job): the sum of their execution times. In the daily build they share the machine with
    the models dbt runs next to them, which inflates their own times."""
    from pipelines.lib.dbt import dbt_command, dbt_env

    target = settings.data_dir / "dbt" / "bench_decide"
    command = dbt_command(settings, "run", "--select", *models, target_path=target)
    env = {**_environment(), **dbt_env(settings)}
    _checked(run_measured(command, log, env=env), "dbt run of the decide models")
    results = json.loads((target / "run_results.json").read_text())["results"]
    return sum(float(result["execution_time"]) for result in results)


# --- comparing the channel files -----------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    ours_rows: int
    baseline_rows: int
    only_ours: int
    only_baseline: int
    sample_only_ours: list[tuple[str, str, str]]
    sample_only_baseline: list[tuple[str, str, str]]

    @property
    def symmetric_difference(self) -> int:
        return self.only_ours + self.only_baseline


def compare_exports(ours: Path, baseline: Path, run_date: dt.date, sample: int = 5) -> Comparison:
    """Rows (customer_id, offer_id, channel) of every channel's offers.parquet, both sides."""
    day = run_date.isoformat()

    def files(root: Path) -> str:
        found = sorted(root.glob(f"*/{day}/offers.parquet"))
        if not found:
            raise RuntimeError(f"no channel files for {day} under {root}")
        return "[" + ", ".join(f"'{path}'" for path in found) + "]"

    keys = "customer_id, offer_id, channel"
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        con.execute(f"create table ours as select {keys} from read_parquet({files(ours)})")
        con.execute(f"create table baseline as select {keys} from read_parquet({files(baseline)})")

        def count(query: str) -> int:
            row = con.execute(f"select count(*) from ({query})").fetchone()
            return int(row[0]) if row else 0

        def rows(query: str) -> list[tuple[str, str, str]]:
            return [
                tuple(map(str, row)) for row in con.execute(f"{query} limit {sample}").fetchall()
            ]

        only_ours = f"select * from ours except all select * from baseline order by {keys}"
        only_baseline = f"select * from baseline except all select * from ours order by {keys}"
        return Comparison(
            ours_rows=count("select * from ours"),
            baseline_rows=count("select * from baseline"),
            only_ours=count(only_ours),
            only_baseline=count(only_baseline),
            sample_only_ours=rows(only_ours),  # type: ignore[arg-type]
            sample_only_baseline=rows(only_baseline),  # type: ignore[arg-type]
        )


# Decisioning models that would apply rules bench/baseline.py does not model: with one in the
# project, the two sides' rows may differ for explained reasons (model name -> the rule). The
# baseline now models every rule of int_offer_channels_expanded, int_offer_candidates and
# int_offer_arbitrated (product channel rules, tiers, contact policies, capacities with
# fallback); add a model here when decisioning gains a rule it does not.
UNMODELLED_DECISIONING: dict[str, str] = {}
ACTIVE_MODEL_RULE = "propensity scores of an active trained model (the baseline uses segment rates)"


def unmodelled_rules(manifest_path: Path, models_dir: Path | None = None) -> list[str]:
    """The rules of our decisioning (from dbt's manifest) that the baseline does not model;
    with `models_dir`, also an active propensity model (<models_dir>/active.json): arbitration
    then scores with the model, the baseline with the segment rates."""
    nodes = json.loads(manifest_path.read_text())["nodes"]
    names = {node["name"] for node in nodes.values() if node["resource_type"] == "model"}
    rules = [rule for model, rule in UNMODELLED_DECISIONING.items() if model in names]
    if models_dir is not None and (models_dir / "active.json").is_file():
        rules.append(ACTIVE_MODEL_RULE)
    return rules


def exported_outside(exports: Path, candidates: Path, run_date: dt.date) -> int:
    """Rows of the channel files under `exports` whose (customer_id, offer_id, channel) is not
    among the baseline's eligible candidates: rows that break a rule the baseline applies."""
    found = sorted(exports.glob(f"*/{run_date.isoformat()}/offers.parquet"))
    listed = "[" + ", ".join(f"'{path}'" for path in found) + "]"
    with duckdb.connect() as con:
        row = con.execute(
            f"""select count(*) from (
                select customer_id, offer_id, channel from read_parquet({listed})
                except all
                select customer_id, offer_id, channel from read_parquet('{candidates}')
            )"""
        ).fetchone()
    return int(row[0]) if row else 0


# --- one size -------------------------------------------------------------------------------------


@dataclass
class SideResult:
    total_seconds: float
    cpu_seconds: float
    stages: dict[str, float]
    peak_tree_rss_bytes: int
    max_process_rss_bytes: int
    detail: dict[str, object] = field(default_factory=dict)


@dataclass
class SizeResult:
    customers: int
    run_date: str
    landing_rows: dict[str, int]
    load_average_before: str
    generate: SideResult
    ours: SideResult
    baseline: SideResult
    comparison: Comparison
    incremental: SideResult | None = None
    incremental_baseline: SideResult | None = None
    incremental_comparison: Comparison | None = None
    incremental_error: str | None = None
    incremental_new_contacts: int = 0


def _cmart(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "cmart.cli", *arguments]


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for name in ("DAGSTER_HOME", "CMART_DATA_DIR", "CMART_RUN_DATE"):
        env.pop(name, None)  # every command gets --data-dir (and --run-date) explicitly
    return env


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cores)"


def run_ours(
    settings: Settings,
    logs: Path,
    label: str,
    *,
    decide_alone: bool = True,
    progress: Callable[[str], None] | None = None,
) -> SideResult:
    """`cmart run` in a subprocess; stage times from its Dagster run and dbt's results; with
    `decide_alone`, the decide models are then re-run alone for an uncontended time."""
    measured = _checked(
        run_measured(
            _cmart(
                "run",
                "--data-dir",
                str(settings.data_dir),
                "--run-date",
                settings.run_date.isoformat(),
                "--log-level",
                "WARNING",
            ),
            logs / f"{label}.log",
            env=_environment(),
            heartbeat=progress,
        ),
        f"cmart run ({label})",
    )
    steps = read_run_steps(settings.dagster_home)
    build_dir = settings.dbt_target_dir / "build"
    decide = read_decide_time(build_dir)
    shutil.copyfile(build_dir / "run_results.json", logs / f"{label}_run_results.json")
    stages: dict[str, float] = {}
    for step_key, seconds in steps.steps.items():
        stage = stage_of_step(step_key)
        stages[stage] = stages.get(stage, 0.0) + seconds
    stages["decide"] = decide.seconds
    alone = (
        rerun_decide(settings, decide.models, logs / f"{label}_decide_alone.log")
        if decide_alone
        else None
    )
    return SideResult(
        total_seconds=measured.seconds,
        cpu_seconds=measured.cpu_seconds,
        stages=stages,
        peak_tree_rss_bytes=measured.peak_tree_rss_bytes,
        max_process_rss_bytes=measured.max_process_rss_bytes,
        detail={
            "run_id": steps.run_id,
            "dagster_run_seconds": steps.run_seconds,
            "steps": steps.steps,
            "decide_models": decide.models,
            "dbt_seconds_by_kind": dbt_time_by_kind(build_dir),
            "slowest_dbt_nodes": slowest_nodes(build_dir),
            "decide_alone_seconds": alone,
            "decide_lineage_seconds": decide.lineage_seconds,
            "decide_lineage_models": decide.lineage_models,
        },
    )


def run_baseline_side(
    settings: Settings,
    out_dir: Path,
    logs: Path,
    label: str,
    rules: dict[str, object],
    candidates: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> SideResult:
    """bench/baseline.py in a subprocess, with dbt's DuckDB memory limit; with `candidates`,
    it also writes its eligible rows before ranking there (not for timed runs)."""
    memory_limit = os.environ.get("CMART_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
    temp_dir = settings.data_dir / "baseline" / "tmp"
    shutil.rmtree(temp_dir, ignore_errors=True)
    command = [
        sys.executable,
        str(BASELINE_SCRIPT),
        "--landing-dir",
        str(settings.landing_dir),
        "--out-dir",
        str(out_dir),
        "--run-date",
        settings.run_date.isoformat(),
        "--rules",
        json.dumps(rules),
        "--config-dir",
        str(baseline_config_dir(settings, settings.data_dir / "baseline" / "config")),
        "--memory-limit",
        memory_limit,
        "--temp-dir",
        str(temp_dir),
        *(["--candidates-out", str(candidates)] if candidates else []),
    ]
    measured = _checked(
        run_measured(command, logs / f"{label}.log", env=_environment(), heartbeat=progress),
        f"baseline ({label})",
    )
    lines = Path(measured.log).read_text().strip().splitlines()
    report = json.loads(lines[-1])
    shutil.rmtree(temp_dir, ignore_errors=True)
    return SideResult(
        total_seconds=measured.seconds,
        cpu_seconds=measured.cpu_seconds,
        stages=dict(report["seconds"]),
        peak_tree_rss_bytes=measured.peak_tree_rss_bytes,
        max_process_rss_bytes=measured.max_process_rss_bytes,
        detail={
            "rows_by_channel": report["rows_by_channel"],
            "rows_decided": report["rows_decided"],
        },
    )


def decision_rules(settings: Settings) -> dict[str, object]:
    """The decisioning configuration the pipeline uses (validated by cmart.config), for the
    baseline's --rules: settings.yml `decisioning:`, every channel's contact policy with the
    `default` row applied, the per-product channel rules and the tier overrides."""
    from cmart.config import load_config

    config = load_config(settings.config_dirs)
    decisioning = config.decisioning
    return {
        "top_n_offers": decisioning.top_n_offers,
        "response_suppression_days": decisioning.response_suppression_days,
        "attribution_window_days": decisioning.attribution_window_days,
        "propensity_prior_contacts": decisioning.propensity_prior_contacts,
        "default_control_rate": decisioning.default_control_rate,
        "propensity_weight": decisioning.propensity_weight,
        "value_weight": decisioning.value_weight,
        "cost_weight": decisioning.cost_weight,
        "separate_tiers": decisioning.separate_tiers,
        "capacity_fallback_channels": decisioning.capacity_fallback_channels,
        "contact_policies": contact_policies(config),
        "product_channels": product_channels(config),
        "product_tiers": {row.product_id: row.tier for row in config.product_tiers},
    }


def baseline_config_dir(settings: Settings, target: Path) -> Path:
    """The configuration files the pipeline uses (the defaults, each overridden by the data
    dir's own copy), gathered in `target` for the baseline's --config-dir."""
    from cmart.config import load_config

    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name, path in load_config(settings.config_dirs).files.items():
        shutil.copyfile(path, target / name)  # the path load_config read
    return target


def contact_policies(config: CampaignConfig) -> dict[str, dict[str, object]]:
    """channel -> its resolved contact policy (caps None = no cap), for every channel."""
    return {
        code: config.contact_policy(code).model_dump(exclude={"channel_code"})
        for code in config.channel_codes
    }


def product_channels(config: CampaignConfig) -> dict[str, dict[str, int]]:
    """product -> {channel: channel_order} of product_channels.csv (products without rules
    are absent: they may use every channel of their offers)."""
    rules: dict[str, dict[str, int]] = {}
    for row in config.product_channels:
        rules.setdefault(row.product_id, {})[row.channel_code] = row.channel_order
    return rules


def _landing_rows(log: Path) -> dict[str, int]:
    rows: dict[str, int] = {}
    for line in log.read_text().splitlines():
        if line.startswith("generated ") and ": " in line and " rows in " in line:
            source, rest = line.removeprefix("generated ").split(": ", 1)
            rows[source] = int(rest.split(" rows")[0].replace(",", ""))
    return rows


def bench_size(
    customers: int,
    root: Path,
    *,
    run_date: dt.date = RUN_DATE,
    incremental: bool = True,
    progress: Callable[[str], None] = print,
) -> SizeResult:
    """Generate a world of `customers`, run both sides on it, compare, then the incremental day."""
    data_dir = root / f"customers_{customers}"
    shutil.rmtree(data_dir, ignore_errors=True)
    settings = Settings(data_dir=data_dir.resolve(), run_date=run_date)
    logs = data_dir / "logs"
    load_before = load_average()
    progress(f"[{customers:,}] generate (load average {load_before})")
    generated = _checked(
        run_measured(
            _cmart(
                "generate",
                "--data-dir",
                str(settings.data_dir),
                "--customers",
                str(customers),
                "--end-date",
                run_date.isoformat(),
            ),
            logs / "generate.log",
            env=_environment(),
            heartbeat=progress,
        ),
        "cmart generate",
    )
    rules = decision_rules(settings)
    progress(f"[{customers:,}] ours: cmart run (load average {load_average()})")
    ours = run_ours(settings, logs, "ours", progress=progress)
    progress(
        f"[{customers:,}] ours done in {ours.total_seconds:.0f}s; baseline "
        f"(load average {load_average()})"
    )
    baseline_dir = settings.data_dir / "baseline" / "exports"
    baseline = run_baseline_side(settings, baseline_dir, logs, "baseline", rules, progress=progress)
    comparison = compare_exports(settings.exports_dir, baseline_dir, run_date)
    result = SizeResult(
        customers=customers,
        run_date=run_date.isoformat(),
        landing_rows=_landing_rows(Path(generated.log)),
        load_average_before=load_before,
        generate=SideResult(
            total_seconds=generated.seconds,
            cpu_seconds=generated.cpu_seconds,
            stages={"generate": generated.seconds},
            peak_tree_rss_bytes=generated.peak_tree_rss_bytes,
            max_process_rss_bytes=generated.max_process_rss_bytes,
        ),
        ours=ours,
        baseline=baseline,
        comparison=comparison,
    )
    _save(result, data_dir)
    if incremental:
        try:
            bench_incremental(result, settings, rules, progress)
        except (RuntimeError, OSError, duckdb.Error) as error:  # keep the full run's results
            result.incremental_error = str(error)[:2000]
            progress(f"[{customers:,}] incremental day FAILED: {result.incremental_error}")
        _save(result, data_dir)
    return result


def _save(result: SizeResult, data_dir: Path) -> None:
    (data_dir / "result.json").write_text(json.dumps(asdict(result), indent=2, default=str))


def write_day_of_contacts(landing_dir: Path, day: dt.date) -> int:
    """A day of new contacts in landing/contacts/: the contacts of the day before, moved one day
    later under new ids (same volume and mix as the generated history). Returns their count."""
    from bench.baseline import scan

    target = landing_dir / "contacts" / f"contacts_{day.isoformat()}_day.parquet"
    target.unlink(missing_ok=True)
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        contacts = scan(con, landing_dir, "contacts")
        con.execute(
            f"""copy (
                select 'D' || contact_id as contact_id, customer_id, offer_id, channel,
                    contacted_at + interval 1 day as contacted_at,
                    cell, is_control, rep_id, branch_id
                from {contacts}
                where contacted_at >= date '{day - dt.timedelta(days=1)}'
                    and contacted_at < date '{day}'
            ) to '{target}' (format parquet)"""
        )
        row = con.execute(f"select count(*) from '{target}'").fetchone()
    return int(row[0]) if row else 0


def bench_incremental(
    result: SizeResult,
    settings: Settings,
    rules: dict[str, object],
    progress: Callable[[str], None] = print,
) -> None:
    """A day of new contacts and responses lands; the next day's daily run (and the baseline)
    on it."""
    next_day = settings.run_date + dt.timedelta(days=1)
    logs = settings.data_dir / "logs"
    contacts = write_day_of_contacts(settings.landing_dir, settings.run_date)
    progress(
        f"[{result.customers:,}] incremental: {contacts:,} new contacts on {settings.run_date} "
        f"and their responses, run {next_day}"
    )
    result.incremental_new_contacts = contacts
    _checked(
        run_measured(
            _cmart(
                "generate",
                "--data-dir",
                str(settings.data_dir),
                "--responses-only",
                "--since",
                settings.run_date.isoformat(),
                "--end-date",
                next_day.isoformat(),
            ),
            logs / "generate_incremental.log",
            env=_environment(),
        ),
        "cmart generate --responses-only",
    )
    next_settings = Settings(data_dir=settings.data_dir, run_date=next_day)
    progress(f"[{result.customers:,}] ours: incremental day (load average {load_average()})")
    result.incremental = run_ours(
        next_settings, logs, "ours_incremental", decide_alone=False, progress=progress
    )
    progress(f"[{result.customers:,}] baseline: incremental day")
    baseline_dir = settings.data_dir / "baseline" / "exports"
    result.incremental_baseline = run_baseline_side(
        next_settings, baseline_dir, logs, "baseline_incremental", rules, progress=progress
    )
    result.incremental_comparison = compare_exports(
        next_settings.exports_dir, baseline_dir, next_day
    )


# --- printing -------------------------------------------------------------------------------------


def _ratio(ours: float | None, baseline: float | None) -> str:
    if ours is None or not baseline:
        return "-"
    return f"{ours / baseline:.1f}x"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _gib(value: int) -> str:
    return f"{value / 2**30:.2f}"


def format_result(result: SizeResult) -> str:
    """The table of one size: stage, ours, baseline, ratio; memory; rows; difference."""
    ours, base = result.ours, result.baseline
    transform = base.stages.get("decide")
    rows: list[tuple[str, float | None, float | None, str]] = [
        ("generate (shared input)", result.generate.total_seconds, None, "not in the daily run"),
        ("load", ours.stages.get("load"), base.stages.get("load"), "baseline: read + dedupe"),
        ("dbt build (all models+tests)", ours.stages.get("dbt build"), transform, "vs decide"),
        ("  decide (in dbt build)", ours.stages.get("decide"), transform, "see note"),
        (
            "  decide, re-run alone",
            ours.detail.get("decide_alone_seconds"),  # type: ignore[arg-type]
            transform,
            "dbt run of those models only",
        ),
        (
            "  decide lineage",
            float(ours.detail.get("decide_lineage_seconds", 0.0)),  # type: ignore[arg-type]
            transform,
            "every model nbo reads",
        ),
        ("export", ours.stages.get("export"), base.stages.get("export"), ""),
        ("publish", ours.stages.get("publish"), None, "baseline: none"),
        (
            "report",
            ours.stages.get("report"),
            None,
            "n/a: not in the job yet" if "report" not in ours.stages else "",
        ),
    ]
    if ours.stages.get("other"):
        rows.append(("other steps", ours.stages["other"], None, ""))
    steps_sum = sum(value for key, value in ours.stages.items() if key != "decide")
    phases_sum = sum(base.stages.values())
    rows.append(
        (
            "startup+orchestration",
            ours.total_seconds - steps_sum,
            base.total_seconds - phases_sum,
            "process, imports, dbt parse",
        )
    )
    rows.append(("daily run (total)", ours.total_seconds, base.total_seconds, "wall, subprocess"))
    rows.append(("daily run CPU (user+sys)", ours.cpu_seconds, base.cpu_seconds, "dbt included"))
    header = f"{'stage':<30}{'ours (s)':>10}{'baseline (s)':>14}{'ratio':>8}  note"
    lines = [
        f"== {result.customers:,} customers, "
        f"{result.landing_rows.get('contacts', 0):,} contacts, run date {result.run_date} ==",
        f"load average before: {result.load_average_before}",
        header,
        "-" * len(header),
    ]
    for name, mine, theirs, note in rows:
        lines.append(
            f"{name:<30}{_seconds(mine):>10}{_seconds(theirs):>14}{_ratio(mine, theirs):>8}  {note}"
        )
    lines += [
        f"overall ratio ours/baseline: {_ratio(ours.total_seconds, base.total_seconds)}",
        f"peak RSS, process tree (GiB): ours {_gib(ours.peak_tree_rss_bytes)}, "
        f"baseline {_gib(base.peak_tree_rss_bytes)}; largest single process: "
        f"ours {_gib(ours.max_process_rss_bytes)}, baseline {_gib(base.max_process_rss_bytes)}",
        f"decide = {', '.join(ours.detail.get('decide_models', []))}",  # type: ignore[arg-type]
        f"dbt build, execution time by kind (s): {ours.detail.get('dbt_seconds_by_kind')}",
        f"slowest dbt nodes (s): {ours.detail.get('slowest_dbt_nodes')}",
        _comparison_line("exported rows", result.comparison),
    ]
    if result.incremental is not None:
        day = result.incremental
        share = day.total_seconds / ours.total_seconds
        again = result.incremental_baseline.total_seconds if result.incremental_baseline else None
        lines.append(
            f"incremental day: ours {day.total_seconds:.1f}s = {share:.0%} of the full run "
            f"(CPU {day.cpu_seconds / ours.cpu_seconds:.0%}) "
            f"[load {_seconds(day.stages.get('load'))}s, dbt build "
            f"{_seconds(day.stages.get('dbt build'))}s]; baseline (recomputes all) "
            f"{_seconds(again)}s"
        )
    if result.incremental_error:
        lines.append(f"incremental day FAILED: {result.incremental_error.splitlines()[0]}")
    if result.incremental_comparison is not None:
        lines.append(_comparison_line("incremental day rows", result.incremental_comparison))
    return "\n".join(lines)


def _comparison_line(label: str, comparison: Comparison) -> str:
    line = (
        f"{label}: ours {comparison.ours_rows:,}, baseline {comparison.baseline_rows:,}; "
        f"symmetric difference on (customer_id, offer_id, channel): "
        f"{comparison.symmetric_difference:,} (only ours {comparison.only_ours:,}, "
        f"only baseline {comparison.only_baseline:,})"
    )
    if comparison.sample_only_ours:
        line += f"\n  e.g. only ours: {comparison.sample_only_ours}"
    if comparison.sample_only_baseline:
        line += f"\n  e.g. only baseline: {comparison.sample_only_baseline}"
    return line


def run_bench(
    sizes: Sequence[int],
    root: Path,
    *,
    run_date: dt.date = RUN_DATE,
    incremental: bool = True,
    keep: bool = False,
    progress: Callable[[str], None] = print,
) -> list[SizeResult]:
    """Every size in turn; prints each table as soon as it is ready."""
    results = []
    for customers in sizes:
        result = bench_size(
            customers, root, run_date=run_date, incremental=incremental, progress=progress
        )
        progress(format_result(result))
        if not keep:
            clean_size(root / f"customers_{customers}")
        results.append(result)
    return results


def clean_size(data_dir: Path) -> None:
    """Drop the bulky state of one size, keep result.json and the logs."""
    for name in ("landing", "truth", "warehouse", "published", "exports", "baseline", "dbt"):
        shutil.rmtree(data_dir / name, ignore_errors=True)
