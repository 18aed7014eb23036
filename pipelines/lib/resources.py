"""The one resource every asset shares: where the data lives and which day is being run.

While a run uses it, the resource holds the warehouse lock (one writer per DuckDB file), so a
run launched from the UI and one started with `cmart run` can never write at the same time.
"""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack

import dagster as dg
from pydantic import PrivateAttr

from cmart.locking import warehouse_lock
from cmart.settings import Settings

PARTITION_TAG = "dagster/partition"


class CampaignMartResource(dg.ConfigurableResource):
    """Data directory and run date. Both can be set in the launchpad's run config; a run of
    a day partition (the exports are partitioned by run date) runs that day instead."""

    data_dir: str = "data"
    run_date: str = ""  # ISO date; empty = today (UTC)
    lock_timeout_seconds: float = 0.0  # how long a run waits for another run's lock

    _locks: ExitStack = PrivateAttr(default_factory=ExitStack)
    _partition_date: dt.date | None = PrivateAttr(default=None)

    def settings(self) -> Settings:
        date = dt.date.fromisoformat(self.run_date) if self.run_date else None
        return Settings.from_env(self.data_dir, run_date=self._partition_date or date)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run_id = context.run_id if context.dagster_run else "no-run"
        partition = context.dagster_run.tags.get(PARTITION_TAG) if context.dagster_run else None
        self._partition_date = dt.date.fromisoformat(partition) if partition else None
        self._locks.enter_context(
            warehouse_lock(
                self.settings().warehouse_dir,
                what=f"dagster run {run_id}",
                timeout=self.lock_timeout_seconds,
            )
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._locks.close()
