"""Synthetic source systems for the demo bank (``cmart generate``).

:func:`generate_world` writes every landing source of CONTRACTS.md, a mix of formats so that all
readers are exercised, each file written to ``.<name>.tmp`` and renamed:

- CSV: customers (``customers.csv`` + ``customers_updates.csv``), products, campaigns, offers,
  branches, reps, preferences, complaints;  CSV.gz: consents;  JSON lines: crm_customers,
  life_events;  Parquet (typed timestamps, naive UTC): holdings, scores, responses, contacts
  (one file per 30 days).

Every event lies in ``[end_date - days, end_date)``: the history ends the day before the run date.
The planted truth goes to ``<truth_dir>``: ``acceptance_rates.csv``, ``customer_truth.parquet``,
``identity_matches.csv``, ``campaign_lift.csv``, ``offer_truth.csv``, ``dirty_rows.csv`` (with a
dirty rate) and ``world.json``. :func:`generate_responses` reads it to add a batch of responses
to the contacts (generated or written later by the pipeline) made since a date.
Same arguments, same bytes.
"""

from cmart.generate.incremental import generate_responses
from cmart.generate.world import GenerateReport, generate_world

__all__ = ["GenerateReport", "generate_responses", "generate_world"]
