"""Export today's channel lists and publish the analysts' snapshot again, without Dagster.

``python -m cmart.republish --data-dir D --run-date YYYY-MM-DD`` runs the last two stages of
the daily job (the ``channel_exports`` and ``published/campaign_mart`` assets) with the same
functions, from the warehouse as it is: for an operator whose channel lost its file, and for
the crash harness (tests/crash/), which kills this stage many times because it is cheap.
It holds the warehouse lock, so it never runs alongside a pipeline run. Each step prints one
line (``stage export <channel>`` …), which tells where an interrupted run stopped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import uuid
from collections.abc import Callable, Sequence

from cmart.config import load_config
from cmart.exports import export_channels
from cmart.locking import WarehouseBusyError, warehouse_lock
from cmart.publish import publish_snapshot
from cmart.settings import Settings


def _say(message: str) -> None:
    print(message, flush=True)


def republish(
    settings: Settings,
    *,
    run_id: str,
    publish: bool = True,
    lock_timeout: float = 0.0,
    progress: Callable[[str], None] = _say,
) -> None:
    """Write every configured channel's list for ``settings.run_date``, then publish."""
    config = load_config(settings.config_dirs)
    with warehouse_lock(settings.warehouse_dir, what="cmart.republish", timeout=lock_timeout):
        for code in config.channel_codes:
            progress(f"stage export {code}")
            (export,) = export_channels(
                settings.warehouse_path,
                settings.exports_dir,
                config,
                settings.run_date,
                run_id=run_id,
                channels=[code],
            )
            progress(f"stage exported {code} {export.rows} rows")
        if publish:
            progress("stage publish")
            report = publish_snapshot(
                settings.warehouse_path, settings.published_dir, run_date=settings.run_date
            )
            progress(f"stage published {len(report.tables)} tables")
    progress("stage done")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cmart.republish", description=__doc__)
    parser.add_argument("--data-dir", default=None, help="default: $CMART_DATA_DIR or ./data")
    parser.add_argument("--run-date", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--no-publish", action="store_true", help="exports only")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS")
    args = parser.parse_args(argv)
    settings = Settings.from_env(args.data_dir, run_date=args.run_date)
    try:
        republish(
            settings,
            run_id=f"republish-{uuid.uuid4()}",
            publish=not args.no_publish,
            lock_timeout=args.wait,
        )
    except WarehouseBusyError as error:
        print(f"cmart.republish: {error}", flush=True)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
