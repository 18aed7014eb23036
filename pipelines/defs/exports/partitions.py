"""The day partitions of the exports: one partition per run date.

The dbt models upstream are not partitioned (each run rebuilds the mart as of its run date);
the lists are, so that the UI shows one partition per day. The run date of a partitioned run is
its partition key (the `cmart` resource reads it), so `cmart run --run-date D`, the schedule
and the sensor launch partition D. Partitions run up to tomorrow: a team may prepare
tomorrow's lists the evening before.
"""

import dagster as dg

FIRST_RUN_DATE = "2000-01-01"

run_date_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_RUN_DATE, end_offset=2)
