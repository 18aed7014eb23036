"""Machine learning: the propensity model, trained weekly outside the daily job."""
