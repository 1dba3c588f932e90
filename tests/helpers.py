"""Helpers shared by the audit tests: run the CLI in-process, validate the JSON report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from click.testing import CliRunner

from openaudit.cli import cli
from openaudit.resources import schema_path


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.stdout)
        validate_report(doc)
        return doc


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_path("audit-v1.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def validate_report(doc: dict[str, Any]) -> None:
    errors = list(_validator().iter_errors(doc))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def run_cli(*args: str, env: dict[str, str | None] | None = None) -> Run:
    runner = CliRunner()
    result = runner.invoke(cli, list(args), env=env, catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


def audit_json(hub_url: str, cache_dir: Path, *ids: str, extra: tuple[str, ...] = ()) -> Run:
    return run_cli(
        "audit", *ids, "--format", "json", "--endpoint", hub_url, "--cache-dir", str(cache_dir), *extra
    )


def by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in doc["models"]}
