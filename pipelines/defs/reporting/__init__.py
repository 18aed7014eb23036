"""Reporting: low-performer alerts as asset checks, and the daily HTML report."""
