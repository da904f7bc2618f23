"""Benchmarks of lms.mail against the tools it replaces (bench/README.md)."""
