"""Versioned model artifacts in <data-dir>/models/<version>/ and the active-version pointer."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

from cmart.propensity.schema import FeatureSchema

ACTIVE_FILE = "active.json"
MODEL_FILE = "model.joblib"
FEATURES_FILE = "features.json"
METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class LoadedModel:
    version: str
    model: Any
    schema: FeatureSchema


def new_version(models_dir: Path, now: dt.datetime | None = None) -> str:
    """A sortable version name from the UTC time; a suffix if the name is taken."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    version, suffix = stamp, 1
    while (models_dir / version).exists():
        suffix += 1
        version = f"{stamp}-{suffix}"
    return version


def _write_json(path: Path, document: dict[str, Any]) -> None:
    """Write then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", delete=False, encoding="utf-8"
    ) as handle:
        json.dump(document, handle, indent=2, default=str)
        handle.write("\n")
    os.replace(handle.name, path)


def save_model(
    models_dir: Path,
    version: str,
    model: Any,
    schema: FeatureSchema,
    metrics: dict[str, Any],
) -> Path:
    """Write model, feature list and metrics to a temporary folder, then rename it."""
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=models_dir, prefix=f".{version}."))
    joblib.dump(model, staging / MODEL_FILE)
    schema.save(staging / FEATURES_FILE)
    _write_json(staging / METRICS_FILE, metrics)
    target = models_dir / version
    os.replace(staging, target)
    return target


def activate(models_dir: Path, version: str) -> None:
    if not (models_dir / version / MODEL_FILE).exists():
        raise FileNotFoundError(f"no model {version!r} in {models_dir}")
    _write_json(
        models_dir / ACTIVE_FILE,
        {"version": version, "activated_at": dt.datetime.now(dt.UTC).isoformat()},
    )


def active_version(models_dir: Path) -> str | None:
    """The active model version, or None when no model is active."""
    path = models_dir / ACTIVE_FILE
    if not path.exists():
        return None
    version = json.loads(path.read_text()).get("version")
    return str(version) if version else None


def load_model(models_dir: Path, version: str) -> LoadedModel:
    folder = models_dir / version
    if not (folder / MODEL_FILE).exists():
        raise FileNotFoundError(
            f"active model {version!r} has no {MODEL_FILE} in {folder}: retrain (`cmart train`)"
            f" or fix {models_dir / ACTIVE_FILE}"
        )
    return LoadedModel(
        version=version,
        model=joblib.load(folder / MODEL_FILE),
        schema=FeatureSchema.load(folder / FEATURES_FILE),
    )


def read_metrics(models_dir: Path, version: str) -> dict[str, Any]:
    return json.loads((models_dir / version / METRICS_FILE).read_text())
