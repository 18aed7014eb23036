"""`cmart`: the command line of campaign-mart.

Every command takes `--data-dir` (default `./data`, env `CMART_DATA_DIR`): landing files,
warehouse, exports, Dagster storage and dbt artifacts all live below it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from cmart.settings import DBT_PROJECT_DIR, REPO_ROOT, Settings

DAGSTER_YAML = REPO_ROOT / "dagster.yaml"


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from error


def _positive_int(value: str) -> int:
    number = int(value.replace("_", ""))
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be a positive integer")
    return number


def _rate(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be between 0 and 1")
    return number


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(args.data_dir, run_date=getattr(args, "run_date", None))


def _say(message: str) -> None:
    print(message, flush=True)


def prepare_dagster_home(settings: Settings) -> None:
    """Point Dagster's instance (runs, event logs, schedules) at <data-dir>/dagster."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DAGSTER_YAML, settings.dagster_home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    os.environ["CMART_DATA_DIR"] = str(settings.data_dir)
    if settings.run_date:
        os.environ["CMART_RUN_DATE"] = settings.run_date.isoformat()


# --- commands ---------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    from cmart.generate import generate_responses, generate_world

    settings = _settings(args)
    if args.responses_only:
        if args.since is None:
            raise SystemExit("cmart generate: --responses-only needs --since YYYY-MM-DD")
        report = generate_responses(
            settings, since=args.since, seed=args.seed, end_date=args.end_date, progress=_say
        )
    else:
        report = generate_world(
            settings,
            customers=args.customers,
            seed=args.seed,
            days=args.days,
            dirty_rate=args.dirty_rate,
            end_date=args.end_date,
            progress=_say,
        )
    total = sum(report.rows.values())
    _say(f"generated {total:,} rows in {len(report.files)} files in {report.seconds:.1f}s")
    _say(f"landing: {settings.landing_dir}  truth: {settings.truth_dir}")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    import duckdb

    from cmart.config import load_config, write_config_tables
    from cmart.locking import WarehouseBusyError, warehouse_lock
    from loaders import load_landing

    settings = _settings(args)
    config = load_config(settings.config_dirs)
    try:  # one writer: never alongside a pipeline run
        with warehouse_lock(settings.warehouse_dir, what="cmart load", timeout=args.wait):
            with duckdb.connect(str(settings.warehouse_path)) as con:
                write_config_tables(con, config)
            reports = load_landing(
                settings.warehouse_path,
                settings.landing_dir,
                config,
                sources=args.source or None,
                progress=_say,
            )
    except WarehouseBusyError as error:
        print(f"cmart load: {error}", file=sys.stderr)
        return 2
    rejected = [item for report in reports for item in report.files if item.status == "rejected"]
    loaded = sum(report.rows_loaded for report in reports)
    quarantined = sum(report.rows_quarantined for report in reports)
    _say(f"loaded {loaded:,} rows, quarantined {quarantined:,}, rejected {len(rejected)} file(s)")
    for item in rejected:
        _say(f"  rejected {item.path}: {item.message}")
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    from cmart.config import ConfigError, load_config

    settings = _settings(args)
    try:
        config = load_config(settings.config_dirs)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 1
    _say(f"configuration OK, version {config.version}")
    for name, path in sorted(config.files.items()):
        _say(f"  {name:<20} {path}")
    return 0


def cmd_audit_consent(args: argparse.Namespace) -> int:
    from cmart.audit import audit_consent
    from cmart.config import load_config

    settings = _settings(args)
    config = load_config(settings.config_dirs)
    audit = audit_consent(settings.landing_dir, settings.exports_dir, config, args.date)
    if not audit.channels:
        print(f"no exports found for {args.date} under {settings.exports_dir}", file=sys.stderr)
        return 2
    for channel in audit.channels:
        _say(f"{channel.channel:<12} {channel.rows:>9,} rows  {channel.violating_rows:,} violating")
    if audit.ok:
        _say(f"consent audit {args.date}: OK, no exported row violates consent")
        return 0
    _say(f"consent audit {args.date}: {audit.violations.num_rows:,} violating row(s)")
    for row in audit.violations.to_pylist():
        _say(
            f"  {row['channel']} customer {row['customer_id']} offer {row['offer_id']}: "
            f"{row['reasons']}"
        )
    return 1


def cmd_run(args: argparse.Namespace) -> int:
    from cmart.locking import WarehouseBusyError, warehouse_lock

    settings = _settings(args)
    # Refuse early with a clear message, and keep the lock while the definitions are built
    # (dbt parse: seconds), so that of two runs started at once the second is refused here;
    # the run's resource takes the lock over while the job writes.
    with ExitStack() as starting:
        try:
            starting.enter_context(
                warehouse_lock(
                    settings.warehouse_dir, what="cmart run (starting)", timeout=args.wait
                )
            )
        except WarehouseBusyError as error:
            print(f"cmart run: {error}", file=sys.stderr)
            return 2
        prepare_dagster_home(settings)
        import dagster as dg

        from pipelines.assemble import build_definitions

        _say(f"campaign-mart: {args.job} run for {settings.run_date} in {settings.data_dir}")
        started = time.monotonic()
        defs = build_definitions(settings, lock_timeout_seconds=args.wait)
        job = defs.resolve_job_def(args.job)
        day = settings.run_date.isoformat()
        if job.partitions_def and not job.partitions_def.has_partition_key(day):
            from pipelines.defs.exports.partitions import FIRST_RUN_DATE

            print(
                f"cmart run: --run-date {day} is not a day the {args.job} job can run: run "
                f"dates go from {FIRST_RUN_DATE} to tomorrow (UTC)",
                file=sys.stderr,
            )
            return 2
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            partition_key=settings.run_date.isoformat() if job.partitions_def else None,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": args.log_level}}}},
        )
    elapsed = time.monotonic() - started
    busy = _busy_error(result)
    if busy:  # another run took the lock between our check and the job's start
        print(f"cmart run: {busy}", file=sys.stderr)
        return 2
    if not result.success:
        _print_failure(result, elapsed)
        return 1
    _say(f"run {result.run_id} succeeded in {elapsed:.0f}s")
    _print_export_summary(settings)
    _print_offer_alerts(settings)
    return 0


def _busy_error(result: Any) -> str | None:
    """The message of a WarehouseBusyError that stopped the run, if one did."""
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        while error is not None:
            if error.cls_name == "WarehouseBusyError":
                return error.message.strip().removeprefix("cmart.locking.WarehouseBusyError: ")
            error = error.cause
    return None


def _print_failure(result: Any, elapsed: float) -> None:
    failures = [event for event in result.all_events if event.is_failure]
    failed_steps = sorted({event.step_key for event in failures if event.step_key})
    print(
        f"run {result.run_id} FAILED after {elapsed:.0f}s; failed steps: {failed_steps}. "
        "Open `cmart ui` to read the full logs.",
        file=sys.stderr,
    )
    for event in failures:
        error = getattr(event.event_specific_data, "error", None)
        if error is not None:
            cause = error.cause.message if error.cause else error.message
            print(f"  {event.step_key or 'run'}: {cause.strip().splitlines()[-1]}", file=sys.stderr)


def _print_export_summary(settings: Settings) -> None:
    import json

    day = settings.run_date.isoformat()
    for manifest in sorted(settings.exports_dir.glob(f"*/{day}/_manifest.json")):
        content = json.loads(manifest.read_text())
        name = content.get("channel") or manifest.parent.parent.name  # e.g. sales_force
        _say(f"  {name:<12} {content.get('row_count', 0):>9,} rows  {manifest.parent}")


def _print_offer_alerts(settings: Settings) -> None:
    from cmart.publish import PUBLISHED_FILE
    from cmart.report import offer_alerts

    published = settings.published_dir / PUBLISHED_FILE
    if not published.is_file():
        return
    alerts = offer_alerts(published)
    _say(f"offer alerts: {len(alerts)}" + ("" if alerts else " (no offer breaks a rule)"))
    for alert in alerts:
        _say(f"  {alert.line()}")
    report = settings.reports_dir / settings.run_date.isoformat() / "report.html"
    if report.is_file():
        _say(f"report: {report}")


def cmd_report(args: argparse.Namespace) -> int:
    from cmart.publish import PUBLISHED_FILE
    from cmart.report import offer_alerts, write_report

    settings = _settings(args)
    published = settings.published_dir / PUBLISHED_FILE
    if not published.is_file():
        print(f"cmart report: no published mart at {published}; run `cmart run`", file=sys.stderr)
        return 2
    path = write_report(
        published, settings.reports_dir, settings.run_date, models_dir=settings.models_dir
    )
    _say(f"report for {settings.run_date}: {path}")
    for alert in offer_alerts(published):
        _say(f"  {alert.line()}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    import json

    from cmart.locking import WarehouseBusyError, warehouse_lock
    from pipelines.lib.dbt import apply_dbt_env, dbt_executable

    settings = _settings(args)
    apply_dbt_env(settings)
    command = [
        dbt_executable(),
        "docs",
        "generate",
        "--quiet",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(settings.dbt_target_dir),
        "--vars",
        json.dumps({"run_date": settings.run_date.isoformat()}),
    ]
    try:  # dbt opens the warehouse: never while a run writes it
        with warehouse_lock(settings.warehouse_dir, what="cmart docs", timeout=args.wait):
            code = subprocess.call(command, cwd=REPO_ROOT)
    except WarehouseBusyError as error:
        print(f"cmart docs: {error}", file=sys.stderr)
        return 2
    if code:
        return code
    _say(f"dbt docs: {settings.dbt_target_dir / 'index.html'}")
    _say(
        f"serve them: dbt docs serve --target-path {settings.dbt_target_dir} "
        f"--project-dir {DBT_PROJECT_DIR} --profiles-dir {DBT_PROJECT_DIR}"
    )
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    settings = _settings(args)
    prepare_dagster_home(settings)
    from pipelines.lib.dbt import apply_dbt_env, prepare_manifest

    apply_dbt_env(settings)
    prepare_manifest(settings)
    dagster = Path(sys.executable).parent / "dagster"
    command = [
        str(dagster if dagster.exists() else "dagster"),
        "dev",
        "-m",
        "pipelines.definitions",
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    _say(f"Dagster UI on http://{args.host}:{args.port} (data: {settings.data_dir}); Ctrl-C stops")
    return subprocess.call(command, cwd=REPO_ROOT)


def cmd_demo(args: argparse.Namespace) -> int:
    args.responses_only = False
    steps: list[tuple[str, Callable[[argparse.Namespace], int]]] = [
        ("generate", cmd_generate),
        ("run", cmd_run),
    ]
    for name, step in steps:
        _say(f"== {name} ==")
        code = step(args)
        if code:
            return code
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from cmart.config import load_config
    from cmart.locking import WarehouseBusyError, warehouse_lock
    from cmart.propensity.features import FeatureBuildError, ensure_training_rows
    from cmart.propensity.train import TrainingError, train_model

    settings = _settings(args)
    config = load_config(settings.config_dirs)
    _say(f"training the propensity model on {settings.warehouse_path}")
    try:
        with warehouse_lock(settings.warehouse_dir, what="cmart train", timeout=args.wait):
            if ensure_training_rows(settings):
                _say("  built the training rows of int_propensity_features_assembled")
            result = train_model(
                settings.warehouse_path,
                settings.models_dir,
                config,
                run_date=settings.run_date,
                activate=not args.no_activate,
            )
    except WarehouseBusyError as error:
        print(f"cmart train: {error}", file=sys.stderr)
        return 2
    except (TrainingError, FeatureBuildError) as error:
        print(f"cmart train: {error}", file=sys.stderr)
        return 1
    metrics = result.metrics
    model, baseline = metrics["model"], metrics["segment_rate_baseline"]
    _say(
        f"model {result.version}: {metrics['n_train']:,} training and "
        f"{metrics['n_validation']:,} validation contacts, {metrics['n_iterations']} iterations, "
        f"{result.seconds:.0f}s"
    )
    _say(f"  validation AUC {model['auc']}  (segment-rate baseline {baseline['auc']})")
    _say(
        f"  lift@top decile {model['lift_top_decile']}  "
        f"(segment-rate baseline {baseline['lift_top_decile']})"
    )
    state = "active" if metrics["activated"] else "not activated"
    _say(f"  {state}; artifacts in {result.model_dir}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from cmart.locking import WarehouseBusyError, warehouse_lock
    from cmart.propensity.evaluate import TruthMissingError, decision_quality

    settings = _settings(args)
    try:
        with warehouse_lock(settings.warehouse_dir, what="cmart evaluate", timeout=args.wait):
            report = decision_quality(
                settings.warehouse_path, settings.truth_dir, settings.run_date
            )
    except WarehouseBusyError as error:
        print(f"cmart evaluate: {error}", file=sys.stderr)
        return 2
    except TruthMissingError as error:
        print(f"cmart evaluate: {error}", file=sys.stderr)
        return 1
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    target = settings.reports_dir / f"decision_quality_{settings.run_date.isoformat()}.json"
    target.write_text(json.dumps(report, indent=2) + "\n")
    _say(f"decision quality on {report['run_date']} (scores: {', '.join(report['scored_by'])})")
    for name, totals in report["policies"].items():
        _say(
            f"  {name:<13} {totals['n_offers']:>9,} offers  expected accepted "
            f"{totals['expected_accepted']:>10,.1f} ({totals['accepted_vs_oracle']})  value "
            f"{totals['expected_value']:>13,.0f} ({totals['value_vs_oracle']} of the oracle)"
        )
    _say(f"written to {target}")
    return 0


def _sizes(value: str) -> list[int]:
    return [_positive_int(item) for item in value.split(",") if item.strip()]


def cmd_bench(args: argparse.Namespace) -> int:
    # bench/ lives in the repository only (it is not installed): import it from there.
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from bench.harness import FULL_SIZE, run_bench

    settings = _settings(args)
    sizes = [*args.customers, *([FULL_SIZE] if args.full else [])]
    root = settings.data_dir / "bench"
    _say(f"benchmark: {', '.join(f'{size:,}' for size in sizes)} customers in {root}")
    run_bench(
        sizes,
        root,
        run_date=args.run_date,
        incremental=not args.no_incremental,
        keep=args.keep,
        progress=_say,
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from cmart.api import TOKEN_ENV, serve

    settings = _settings(args)
    auth = f"bearer token from ${TOKEN_ENV}" if os.environ.get(TOKEN_ENV) else "no token"
    _say(
        f"serving {settings.published_dir} on http://{args.host}:{args.port} ({auth}, "
        f"{args.workers} worker process(es))"
    )
    serve(settings, host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_offers(args: argparse.Namespace) -> int:
    import json

    from cmart.config import load_config
    from cmart.offers import (
        PublishedSnapshot,
        SnapshotMissingError,
        customer_offers,
        format_offers,
        is_valid_customer_id,
        published_path,
    )

    settings = _settings(args)
    if not is_valid_customer_id(args.customer_id):
        print("cmart offers: customer id must be 1-64 letters, digits, '_' or '-'", file=sys.stderr)
        return 2
    channels = load_config(settings.config_dirs).channel_codes
    if args.channel is not None and args.channel not in channels:
        print(f"cmart offers: unknown channel {args.channel!r}; known: {channels}", file=sys.stderr)
        return 2
    try:
        con = PublishedSnapshot(published_path(settings.published_dir)).cursor()
    except SnapshotMissingError as error:
        print(f"cmart offers: {error} (run `cmart run` first)", file=sys.stderr)
        return 2
    with con:
        answer = customer_offers(con, args.customer_id, args.channel)
    if answer is None:
        print(f"cmart offers: unknown customer {args.customer_id!r}", file=sys.stderr)
        return 1
    _say(json.dumps(answer, indent=2) if args.json else format_offers(answer))
    return 0


# --- parser -----------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=None,
        help="runtime data folder (default: $CMART_DATA_DIR or ./data)",
    )


def _generate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=_positive_int, default=10_000, help="default 10000")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--days", type=_positive_int, default=90, help="history length (90)")
    parser.add_argument(
        "--dirty-rate", type=_rate, default=0.0, help="share of bad rows per source (0)"
    )
    parser.add_argument(
        "--end-date",
        type=_date,
        default=None,
        help="history runs up to (not including) this day; default: the run date",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmart",
        description="campaign-mart: customer-360, next-best-offer decisioning and channel "
        "exports on DuckDB + dbt + Dagster.",
        epilog="Typical day: `cmart generate` (demo data) → `cmart run` → lists in "
        "<data-dir>/exports/<channel>/<date>/. `cmart ui` opens the Dagster UI.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = sub.add_parser(
        "generate",
        help="write a synthetic, deterministic CRM world into <data-dir>/landing",
        description="Write every landing source of CONTRACTS.md for a synthetic retail bank, "
        "plus the planted truth in <data-dir>/truth (never loaded).",
    )
    _common(generate)
    _generate_options(generate)
    generate.add_argument(
        "--responses-only",
        action="store_true",
        help="write only an incremental batch of new responses (needs --since)",
    )
    generate.add_argument("--since", type=_date, help="with --responses-only: contacts from")
    generate.set_defaults(func=cmd_generate)

    load = sub.add_parser(
        "load", help="validate and load landing files into the raw schema (no dbt, no exports)"
    )
    _common(load)
    load.add_argument("--source", action="append", help="only this source (repeatable)")
    load.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="if a pipeline run holds the warehouse, wait this long for it (default: refuse)",
    )
    load.set_defaults(func=cmd_load)

    run = sub.add_parser(
        "run",
        help="run the daily job in-process: load, dbt build, decide, export",
        description="Materialise the `daily` job with the same Dagster definitions the UI "
        "shows; progress is printed; exits non-zero if any step fails.",
    )
    _common(run)
    run.add_argument("--run-date", type=_date, default=None, help="business date (default today)")
    run.add_argument("--job", default="daily", help="job to run (default: daily)")
    run.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="if another run holds the warehouse, wait this long for it (default: refuse)",
    )
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="generate demo data, then run the daily job")
    _common(demo)
    _generate_options(demo)
    demo.add_argument("--run-date", type=_date, default=None, help="business date (default today)")
    demo.add_argument("--job", default="daily", help=argparse.SUPPRESS)
    demo.add_argument("--wait", type=float, default=0.0, help=argparse.SUPPRESS)
    demo.add_argument("--log-level", default="INFO", help=argparse.SUPPRESS)
    demo.set_defaults(func=cmd_demo)

    report = sub.add_parser(
        "report",
        help="write the HTML report of a run date from the published mart",
        description="Write <data-dir>/reports/<run_date>/report.html: one self-contained page "
        "(plotly.js inline) with the response funnel, rates by region and city, top and bottom "
        "offers, lift with 95% intervals, the trend over days and the offer alerts.",
    )
    _common(report)
    report.add_argument("--run-date", type=_date, default=None, help="run date (default today)")
    report.set_defaults(func=cmd_report)

    docs = sub.add_parser(
        "docs",
        help="generate the dbt docs site (every model and column) into <data-dir>/dbt/target",
    )
    _common(docs)
    docs.add_argument("--wait", type=float, default=0.0, help="wait this long for a running run")
    docs.set_defaults(func=cmd_docs)

    ui = sub.add_parser("ui", help="start the Dagster UI (dagster dev) on these definitions")
    _common(ui)
    ui.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    ui.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    ui.add_argument("--run-date", type=_date, default=None, help=argparse.SUPPRESS)
    ui.set_defaults(func=cmd_ui)

    bench = sub.add_parser(
        "bench",
        help="benchmark the daily run against a hand-written DuckDB baseline (bench/)",
        description="For each size: generate a world, run `cmart run` and bench/baseline.py on "
        "it in subprocesses, print per-stage times, ratios, peak memory and the difference "
        "between the two sides' channel files, then time an incremental day.",
        epilog="Stages of ours come from the Dagster run's step events (load, dbt build, "
        "export, publish, report when the job has it) and dbt's run_results.json (decide = "
        "the decisioning models); the baseline times its own load/decide/export. The "
        "incremental day lands one day of new contacts and their responses, then times the "
        "next day's run as a share of the full one. Results: "
        "<data-dir>/bench/customers_<N>/result.json and logs/. 1M customers takes tens of "
        "minutes on 2 cores; see BENCHMARKS.md.",
    )
    _common(bench)
    bench.add_argument(
        "--customers",
        type=_sizes,
        default=[100_000, 1_000_000],
        help="comma-separated sizes (default 100000,1000000)",
    )
    bench.add_argument("--full", action="store_true", help="also run 10,000,000 customers")
    bench.add_argument(
        "--run-date", type=_date, default=dt.date(2026, 11, 29), help="default 2026-11-29"
    )
    bench.add_argument(
        "--no-incremental", action="store_true", help="skip the incremental-day benchmark"
    )
    bench.add_argument(
        "--keep", action="store_true", help="keep each size's data (default: results and logs)"
    )
    bench.set_defaults(func=cmd_bench)

    serve = sub.add_parser(
        "serve",
        help="serve the sales screens' HTTP API (read-only on the published snapshot)",
        description="GET /health, GET /customers/{id}, GET /customers/{id}/offers?channel=, "
        "POST /responses (appends a landing file). Set $CMART_API_TOKEN to require a bearer "
        "token.",
    )
    _common(serve)
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes answering in parallel, each attaching the snapshot (default 1)",
    )
    serve.set_defaults(func=cmd_serve)

    offers = sub.add_parser(
        "offers",
        help="print a customer's current offers and suppression reasons (published snapshot)",
    )
    _common(offers)
    offers.add_argument("customer_id", help="core customer id")
    offers.add_argument("--channel", default=None, help="only this channel")
    offers.add_argument("--json", action="store_true", help="print the API's JSON answer")
    offers.set_defaults(func=cmd_offers)

    train = sub.add_parser(
        "train",
        help="train the propensity model on the warehouse's contacts and activate it",
        description="Train a gradient-boosted propensity model on the labelled contacts of "
        "int_propensity_features_assembled (time-based validation split), write "
        "<data-dir>/models/<version>/ and make it the active version (docs/propensity.md).",
    )
    _common(train)
    train.add_argument("--run-date", type=_date, default=None, help="business date (default today)")
    train.add_argument(
        "--no-activate", action="store_true", help="write the version without activating it"
    )
    train.add_argument("--wait", type=float, default=0.0, help="seconds to wait for the lock")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser(
        "evaluate",
        help="decision quality of the run date's NBO lists against the planted truth",
        description="Expected accepted offers and value of the NBO lists, of ranking by the "
        "model and by the segment rate, each divided by an oracle's that knows the planted "
        "probabilities (generated worlds only); writes <data-dir>/reports/.",
    )
    _common(evaluate)
    evaluate.add_argument(
        "--run-date", type=_date, default=None, help="business date (default today)"
    )
    evaluate.add_argument("--wait", type=float, default=0.0, help="seconds to wait for the lock")
    evaluate.set_defaults(func=cmd_evaluate)

    audit = sub.add_parser("audit", help="audit commands")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    consent = audit_sub.add_parser(
        "consent",
        help="recompute from the landing files whether a day's exports violate consent, "
        "preferences or complaint suppression; exits 1 if any row does",
    )
    _common(consent)
    consent.add_argument("--date", type=_date, required=True, help="export date YYYY-MM-DD")
    consent.set_defaults(func=cmd_audit_consent)

    config = sub.add_parser("config", help="configuration commands")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_sub.add_parser("check", help="validate the configuration and print its version")
    _common(check)
    check.set_defaults(func=cmd_config_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
