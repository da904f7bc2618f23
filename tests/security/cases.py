"""The bad-input battery's table (bad_input_cases.yml), read once for the tests that run it."""

from __future__ import annotations

import pathlib

import yaml

TABLE = yaml.safe_load((pathlib.Path(__file__).with_name("bad_input_cases.yml")).read_text())
BASE: dict[str, dict] = TABLE["base"]
CASES: list[dict] = TABLE["cases"]


def rows(kind: str) -> list[dict]:
    """The rows whose target is of this kind (role, kind, ...)."""
    return [case for case in CASES if case["target"].split(":", 1)[0] == kind]


def refused(case: dict) -> bool:
    return case.get("expect", "refused") == "refused"
