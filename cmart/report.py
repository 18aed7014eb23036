"""The daily HTML report and the offer alerts, read from the published mart (read-only).

``write_report`` writes ``<data-dir>/reports/<run_date>/report.html``: one self-contained file
(plotly.js embedded inline, no network access needed to open it) with the response funnel by
channel, the hard-response rate by region and city, the top and bottom offers, the lift
against control with its 95% interval, the trend over days, the table of alerts and the active
propensity model's validation metrics (``<data-dir>/models/active.json`` and its version's
``metrics.json``, written by ``cmart train``).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go

from cmart.propensity import artifacts
from cmart.settings import Settings

REPORT_FILE = "report.html"
TOP_N = 10
MIN_OFFER_CONTACTS = 100  # offers ranked in top/bottom need at least this many treated contacts
TREND_DAYS = 60


@dataclass(frozen=True)
class OfferAlert:
    offer_id: str
    campaign_id: str | None
    severity: str
    alert_rules: str
    alert_message: str

    def line(self) -> str:
        campaign = self.campaign_id or "no campaign"
        return f"{self.severity.upper():<8} {self.offer_id} ({campaign}): {self.alert_message}"


def read_offer_alerts(con: duckdb.DuckDBPyConnection) -> list[OfferAlert]:
    """rpt_offer_alerts, critical first; [] when the mart has no such table yet."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'reporting' and table_name = 'rpt_offer_alerts'"
    ).fetchone()
    if not exists or not exists[0]:
        return []
    rows = con.execute(
        """
        select offer_id, campaign_id, severity, alert_rules, alert_message
        from reporting.rpt_offer_alerts
        order by case severity when 'critical' then 0 else 1 end, offer_id
        """
    ).fetchall()
    return [OfferAlert(*row) for row in rows]


def offer_alerts(database: Path) -> list[OfferAlert]:
    """The alerts of a mart file (the published snapshot or the warehouse), opened read-only."""
    with duckdb.connect(str(database), read_only=True) as con:
        return read_offer_alerts(con)


# --- data -------------------------------------------------------------------------------------


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict]:
    cursor = con.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _funnel(con: duckdb.DuckDBPyConnection, day: dt.date) -> list[dict]:
    return _rows(
        con,
        """
        select channel, sum(n_contacts) as contacts, sum(n_soft_responders) as soft,
            sum(n_hard_responders) as hard
        from reporting.rpt_campaign_performance
        where not is_control and contact_date <= ?
        group by channel order by contacts desc
        """,
        [day],
    )


def _rate_by(con: duckdb.DuckDBPyConnection, column: str, day: dt.date, limit: int) -> list[dict]:
    return _rows(
        con,
        f"""
        select coalesce({column}, '(unknown)') as label, sum(n_contacts) as contacts,
            sum(n_hard_responders) * 1.0 / sum(n_contacts) as hard_rate
        from reporting.rpt_campaign_performance
        where not is_control and contact_date <= ?
        group by 1 order by contacts desc limit {int(limit)}
        """,
        [day],
    )


def _offers(con: duckdb.DuckDBPyConnection, day: dt.date) -> list[dict]:
    return _rows(
        con,
        """
        select offer_id, sum(n_contacts) as contacts,
            sum(n_hard_responders) * 1.0 / sum(n_contacts) as hard_rate
        from reporting.rpt_campaign_performance
        where not is_control and contact_date <= ?
        group by offer_id having sum(n_contacts) >= ?
        order by hard_rate desc, offer_id
        """,
        [day, MIN_OFFER_CONTACTS],
    )


def _lift(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return _rows(
        con,
        """
        select coalesce(offer_id, campaign_id, '(no campaign)') as label, lift_level,
            lift, lift_ci_lower, lift_ci_upper, n_treated, n_control
        from reporting.rpt_campaign_lift
        where lift_level in ('campaign', 'offer') and has_enough_contacts
        order by lift_level, label
        """,
    )


def _trend(con: duckdb.DuckDBPyConnection, day: dt.date) -> list[dict]:
    return _rows(
        con,
        """
        select contact_date, sum(n_contacts) as contacts,
            sum(n_soft_responders) * 1.0 / sum(n_contacts) as soft_rate,
            sum(n_hard_responders) * 1.0 / sum(n_contacts) as hard_rate
        from reporting.rpt_campaign_performance
        where not is_control and contact_date <= ? and contact_date > ?
        group by contact_date order by contact_date
        """,
        [day, day - dt.timedelta(days=TREND_DAYS)],
    )


# --- charts -----------------------------------------------------------------------------------


def _layout(figure: go.Figure, title: str, height: int = 420, **kwargs: Any) -> go.Figure:
    figure.update_layout(title=title, template="plotly_white", height=height, **kwargs)
    return figure


def funnel_chart(rows: list[dict]) -> go.Figure:
    channels = [row["channel"] for row in rows]
    figure = go.Figure(
        [
            go.Bar(name="treated contacts", x=channels, y=[row["contacts"] for row in rows]),
            go.Bar(name="soft responders", x=channels, y=[row["soft"] for row in rows]),
            go.Bar(name="hard responders", x=channels, y=[row["hard"] for row in rows]),
        ]
    )
    return _layout(figure, "Response funnel by channel", barmode="group", yaxis={"type": "log"})


def rate_chart(rows: list[dict], title: str) -> go.Figure:
    figure = go.Figure(
        go.Bar(
            x=[row["label"] for row in rows],
            y=[row["hard_rate"] for row in rows],
            customdata=[row["contacts"] for row in rows],
            hovertemplate="%{x}: %{y:.2%} of %{customdata} contacts<extra></extra>",
        )
    )
    return _layout(figure, title, yaxis={"tickformat": ".1%"})


def offers_chart(rows: list[dict]) -> go.Figure:
    top = rows[:TOP_N]
    bottom = [row for row in rows[-TOP_N:] if row not in top]
    figure = go.Figure(
        [
            go.Bar(
                name="top",
                y=[row["offer_id"] for row in top],
                x=[row["hard_rate"] for row in top],
                orientation="h",
            ),
            go.Bar(
                name="bottom",
                y=[row["offer_id"] for row in bottom],
                x=[row["hard_rate"] for row in bottom],
                orientation="h",
            ),
        ]
    )
    return _layout(
        figure,
        f"Top and bottom offers by hard-response rate (≥ {MIN_OFFER_CONTACTS} treated contacts)",
        xaxis={"tickformat": ".1%"},
        yaxis={"autorange": "reversed"},
    )


def lift_chart(rows: list[dict]) -> go.Figure:
    figure = go.Figure()
    for level in ("campaign", "offer"):
        chosen = [row for row in rows if row["lift_level"] == level]
        figure.add_trace(
            go.Scatter(
                name=level,
                mode="markers",
                x=[row["lift"] for row in chosen],
                y=[f"{level}: {row['label']}" for row in chosen],
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [row["lift_ci_upper"] - row["lift"] for row in chosen],
                    "arrayminus": [row["lift"] - row["lift_ci_lower"] for row in chosen],
                },
            )
        )
    figure.add_vline(x=0, line_dash="dot")
    return _layout(
        figure,
        "Lift against control (hard-response rate, 95% Newcombe interval)",
        xaxis={"tickformat": ".1%"},
        height=max(420, 22 * len(rows) + 120),
    )


def trend_chart(rows: list[dict]) -> go.Figure:
    days = [row["contact_date"] for row in rows]
    figure = go.Figure(
        [
            go.Bar(name="treated contacts", x=days, y=[row["contacts"] for row in rows]),
            go.Scatter(
                name="hard-response rate",
                x=days,
                y=[row["hard_rate"] for row in rows],
                yaxis="y2",
                mode="lines+markers",
            ),
            go.Scatter(
                name="soft-response rate",
                x=days,
                y=[row["soft_rate"] for row in rows],
                yaxis="y2",
                mode="lines",
            ),
        ]
    )
    return _layout(
        figure,
        f"Trend over the last {TREND_DAYS} days (by contact date)",
        yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%"},
    )


def calibration_chart(metrics: dict[str, Any]) -> go.Figure:
    """Observed vs predicted hard-response rate per score decile, model and baseline."""
    figure = go.Figure()
    for name, key in (("model", "model"), ("segment-rate baseline", "segment_rate_baseline")):
        rows = (metrics.get(key) or {}).get("calibration") or []
        deciles = [row["decile"] for row in rows]
        figure.add_trace(
            go.Scatter(
                name=f"{name}: observed",
                x=deciles,
                y=[row["observed"] for row in rows],
                mode="lines+markers",
                customdata=[row["n"] for row in rows],
                hovertemplate="decile %{x}: %{y:.2%} of %{customdata} contacts<extra></extra>",
            )
        )
        figure.add_trace(
            go.Scatter(
                name=f"{name}: predicted",
                x=deciles,
                y=[row["predicted"] for row in rows],
                mode="lines",
                line={"dash": "dot"},
            )
        )
    return _layout(
        figure,
        "Calibration on the validation contacts: hard-response rate by score decile "
        "(1 = highest scores)",
        xaxis={"dtick": 1},
        yaxis={"tickformat": ".1%"},
    )


def pooled_uplift(rows: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Treated and control hard rates per score decile over all campaigns (weighted by each
    campaign's contacts in the decile), and their difference."""
    sums: dict[int, list[float]] = {}
    for row in rows:
        if row.get("treated_hard_rate") is None or row.get("control_hard_rate") is None:
            continue
        entry = sums.setdefault(int(row["decile"]), [0.0, 0.0, 0.0, 0.0])
        entry[0] += row["n_treated"] * row["treated_hard_rate"]
        entry[1] += row["n_treated"]
        entry[2] += row["n_control"] * row["control_hard_rate"]
        entry[3] += row["n_control"]
    pooled = []
    for decile, (treated, n_treated, control, n_control) in sorted(sums.items()):
        if n_treated and n_control:
            pooled.append(
                {
                    "decile": decile,
                    "n_treated": n_treated,
                    "n_control": n_control,
                    "uplift": treated / n_treated - control / n_control,
                }
            )
    return pooled


def uplift_chart(rows: list[dict[str, Any]]) -> go.Figure:
    pooled = pooled_uplift(rows)
    figure = go.Figure(
        go.Bar(
            x=[row["decile"] for row in pooled],
            y=[row["uplift"] for row in pooled],
            customdata=[[row["n_treated"], row["n_control"]] for row in pooled],
            hovertemplate="decile %{x}: %{y:.2%} "
            "(%{customdata[0]} treated, %{customdata[1]} control)<extra></extra>",
        )
    )
    return _layout(
        figure,
        "Uplift by model-score decile: treated minus control hard-response rate, all campaigns",
        xaxis={"dtick": 1},
        yaxis={"tickformat": ".1%"},
    )


@dataclass(frozen=True)
class ModelSection:
    """The report's propensity-model section: its HTML text and its charts."""

    text: str
    figures: tuple[go.Figure, ...] = ()


def _number(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _quality_table(metrics: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{name}</td><td>{_number((metrics.get(key) or {}).get('auc'))}</td>"
        f"<td>{_number((metrics.get(key) or {}).get('lift_top_decile'), 2)}</td></tr>"
        for name, key in (("model", "model"), ("segment-rate baseline", "segment_rate_baseline"))
    )
    return (
        "<table id='model-quality'><tr><th>validation contacts scored by</th><th>AUC</th>"
        f"<th>lift at the top decile</th></tr>{rows}</table>"
    )


def _window(metrics: dict[str, Any], key: str) -> str:
    window = metrics.get(key) or {}
    return f"{window.get('from', '?')} – {window.get('to', '?')}"


def model_section(models_dir: Path) -> ModelSection:
    """The active model's validation metrics, or why decisions use the segment rate."""
    version = artifacts.active_version(models_dir)
    if version is None:
        return ModelSection(
            "<p>No propensity model is active (no "
            f"{html.escape(str(models_dir / artifacts.ACTIVE_FILE))}): decisions use the "
            "segment rate (hard-response rate per segment, product and channel). Train one "
            "with <code>cmart train</code>.</p>"
        )
    try:
        metrics = artifacts.read_metrics(models_dir, version)
    except (OSError, ValueError) as error:
        return ModelSection(
            f"<p>Model {html.escape(version)} is active, but its "
            f"{artifacts.METRICS_FILE} cannot be read ({html.escape(str(error))}): retrain "
            "with <code>cmart train</code>.</p>"
        )
    trained = html.escape(str(metrics.get("trained_at", "?")))
    training = html.escape(_window(metrics, "training_window"))
    validation = html.escape(_window(metrics, "validation_window"))
    text = (
        f"<p>Active model <b>{html.escape(version)}</b>, trained {trained} on "
        f"{metrics.get('n_train', '?')} contacts ({training}), validated on "
        f"{metrics.get('n_validation', '?')} later contacts ({validation}). Lift at the top "
        "decile = hard rate of the 10% best-scored contacts / overall hard rate.</p>"
        f"{_quality_table(metrics)}"
    )
    figures: list[go.Figure] = [calibration_chart(metrics)]
    uplift = metrics.get("uplift_by_decile") or []
    if pooled_uplift(uplift):
        figures.append(uplift_chart(uplift))
    else:
        text += "<p>No uplift by decile: the validation window has no control contacts.</p>"
    return ModelSection(text, tuple(figures))


def default_models_dir(reports_dir: Path) -> Path:
    """The models folder of the data dir that holds ``reports_dir`` (the Settings layout)."""
    return Settings(data_dir=reports_dir.parent).models_dir


# --- page -------------------------------------------------------------------------------------


def _alerts_table(alerts: list[OfferAlert]) -> str:
    if not alerts:
        return "<p>No offer breaks an alert rule.</p>"
    rows = "".join(
        f"<tr class='{html.escape(a.severity)}'><td>{html.escape(a.severity)}</td>"
        f"<td>{html.escape(a.offer_id)}</td><td>{html.escape(a.campaign_id or '')}</td>"
        f"<td>{html.escape(a.alert_rules)}</td><td>{html.escape(a.alert_message)}</td></tr>"
        for a in alerts
    )
    return (
        "<table id='alerts'><tr><th>severity</th><th>offer</th><th>campaign</th>"
        f"<th>rules</th><th>what was measured</th></tr>{rows}</table>"
    )


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; width: 100%; }
td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; font-size: 14px; }
tr.critical td:first-child { background: #f8d0d0; }
tr.warning td:first-child { background: #fbecc0; }
"""


def _html_charts(figures: Sequence[go.Figure], first_index: int) -> str:
    """Charts as HTML divs; plotly.js goes inline into the first chart of the page."""
    return "\n".join(
        figure.to_html(full_html=False, include_plotlyjs=index == 0, div_id=f"chart-{index}")
        for index, figure in enumerate(figures, start=first_index)
    )


def render_report(
    con: duckdb.DuckDBPyConnection, run_date: dt.date, source: str, models_dir: Path
) -> str:
    """The report page as one HTML string (plotly.js inline in the first chart)."""
    figures = [
        funnel_chart(_funnel(con, run_date)),
        rate_chart(_rate_by(con, "region", run_date, 30), "Hard-response rate by region"),
        rate_chart(_rate_by(con, "city", run_date, 25), "Hard-response rate by city (top 25)"),
        offers_chart(_offers(con, run_date)),
        lift_chart(_lift(con)),
        trend_chart(_trend(con, run_date)),
    ]
    model = model_section(models_dir)
    alerts = read_offer_alerts(con)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Campaign report {run_date}</title><style>{STYLE}</style></head><body>"
        f"<h1>Campaign report — {run_date}</h1>"
        f"<p>Source: {html.escape(source)} (published mart, read-only). Treated contacts "
        "only, except the lift, which compares them with the control group on the contacts "
        "whose attribution window has closed.</p>"
        f"<h2>Alerts ({len(alerts)})</h2>{_alerts_table(alerts)}"
        f"{_html_charts(figures, 0)}"
        f"<h2 id='propensity-model'>Propensity model</h2>{model.text}"
        f"{_html_charts(model.figures, len(figures))}</body></html>"
    )


def write_report(
    published: Path, reports_dir: Path, run_date: dt.date, models_dir: Path | None = None
) -> Path:
    """Write ``<reports_dir>/<run_date>/report.html`` atomically (temp file, then rename).
    ``models_dir``: the propensity models (default: those of the same data dir)."""
    if not published.is_file():
        raise FileNotFoundError(f"no published mart at {published}: run `cmart run` first")
    models = models_dir if models_dir is not None else default_models_dir(reports_dir)
    with duckdb.connect(str(published), read_only=True) as con:
        page = render_report(con, run_date, str(published), models)
    folder = reports_dir / run_date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / REPORT_FILE
    staged = folder / f".{REPORT_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        staged.write_text(page, encoding="utf-8")
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return target
