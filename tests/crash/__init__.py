"""Crash harness: SIGKILL the daily work at random points, re-run, compare with a clean run."""
