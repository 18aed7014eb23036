"""The propensity model as an asset: trained on the feature table the daily run builds,
versioned in <data-dir>/models/, activated for the next daily run's propensity_scores."""

import dagster as dg

from cmart.config import load_config
from cmart.propensity.features import ensure_training_rows
from cmart.propensity.train import train_model
from pipelines.lib.resources import CampaignMartResource

ML_GROUP = "ml"
FEATURES_KEY = dg.AssetKey(["intermediate", "int_propensity_features_assembled"])


@dg.asset(
    key=dg.AssetKey(["ml", "propensity_model"]),
    group_name=ML_GROUP,
    deps=[FEATURES_KEY],
    description="Gradient-boosted propensity model trained on the labelled contacts of "
    "int_propensity_features_assembled with a time-based validation split; written to "
    "<data-dir>/models/<version>/ and made the active version (docs/propensity.md).",
)
def propensity_model(
    context: dg.AssetExecutionContext, cmart: CampaignMartResource
) -> dg.MaterializeResult:
    settings = cmart.settings()
    ensure_training_rows(settings)  # the daily run builds them only while a model is active
    result = train_model(
        settings.warehouse_path,
        settings.models_dir,
        load_config(settings.config_dirs),
        run_date=settings.run_date,
    )
    metrics = result.metrics
    context.log.info(f"propensity model {result.version} trained in {result.seconds:.0f}s")
    return dg.MaterializeResult(
        metadata={
            "version": result.version,
            "path": dg.MetadataValue.path(str(result.model_dir)),
            "n_train": metrics["n_train"],
            "n_validation": metrics["n_validation"],
            "validation_auc": metrics["model"]["auc"],
            "baseline_auc": metrics["segment_rate_baseline"]["auc"],
            "lift_top_decile": metrics["model"]["lift_top_decile"],
            "baseline_lift_top_decile": metrics["segment_rate_baseline"]["lift_top_decile"],
            "seconds": round(result.seconds, 1),
        }
    )
