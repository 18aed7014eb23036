"""Intraday: new response files → only the models downstream of responses → re-issued lists."""
