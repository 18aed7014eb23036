"""The one resource every asset shares: where the data lives and which day is being run."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from cmart.settings import Settings


class CampaignMartResource(dg.ConfigurableResource):
    """Data directory and run date. Both can be set in the launchpad's run config."""

    data_dir: str = "data"
    run_date: str = ""  # ISO date; empty = today (UTC)

    def settings(self) -> Settings:
        date = dt.date.fromisoformat(self.run_date) if self.run_date else None
        return Settings.from_env(self.data_dir, run_date=date)
