"""Propensity model: learn from past contacts who accepts what, score customer x product x
channel in bulk, and measure decision quality. No Dagster imports: pipelines/ wires it."""
