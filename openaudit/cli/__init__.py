"""The command line: a thin face over the stages.

Subcommands are registered by module path and imported only when invoked, so
`openaudit --help` stays fast (no huggingface_hub, jinja2 or yaml at start-up).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from openaudit import __version__

# `jsonschema` imports `rfc3987_syntax` whenever it is installed (cyclonedx-python-lib's
# json-validation extra brings it), and that compiles 39 grammars at import: about a second of
# CPU at every command that validates anything. No command needs jsonschema's own "iri" check:
# the CycloneDX validator registers its own, which imports the grammar only for a non-ASCII IRI
# (`report.cyclonedx_json`). Set before any command imports jsonschema.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

#: name -> "module:attribute". A new command is one new module and one line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "audit": (
        "openaudit.cli.audit:audit",
        "Audit models: licence, commercial use, weights, data, code, docs.",
    ),
    "cache": ("openaudit.cli.cache:cache", "List or clear the evidence store."),
    "check": (
        "openaudit.cli.check:check",
        "Pre-merge gate: check the models a codebase uses against a policy.",
    ),
    "lock": ("openaudit.cli.check:lock", "Pin the models a codebase uses in openaudit.lock."),
    "notices": (
        "openaudit.cli.check:notices",
        "Third-party notices for the models a codebase uses, by distribution mode.",
    ),
    "eval": (
        "openaudit.cli.eval:eval_",
        "Measure agreement with expert labels on a corpus of Hub snapshots.",
    ),
    "licenses": (
        "openaudit.cli.licenses:licenses",
        "Browse the licence knowledge base and identify licence texts.",
    ),
    "rules": ("openaudit.cli.rules:rules", "List and show the rule packs."),
    "report": (
        "openaudit.cli.report:report",
        "Publish scorecards: Markdown per model, a leaderboard, badges, an HTML site.",
    ),
    "mof": (
        "openaudit.cli.mof:mof",
        "Model Openness Framework: classify and export MOT model files.",
    ),
    "osai": ("openaudit.cli.osai:osai", "European Open Source AI Index: export entries."),
}

EXIT_CODES_HELP = """Exit codes:

\b
  0  every model was audited
  1  a policy violation (openaudit check)
  2  usage or input error (bad option, unreadable file, malformed model file)
  3  at least one model could not be audited, or is incomplete (evidence that
     exists was not read: a transient failure, a gate); its entry says why
  70 internal error (a bug: please report it)
  130/143 interrupted (SIGINT/SIGTERM); the report lists every model
"""


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n in COMMANDS if _available(n))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        target = COMMANDS[cmd_name][0]
        module_name, attr = target.split(":")
        module = importlib.import_module(module_name)
        command: click.Command = getattr(module, attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, COMMANDS[n][1]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(name: str) -> bool:
    module_name = COMMANDS[name][0].split(":")[0]
    return importlib.util.find_spec(module_name) is not None


@click.group(
    cls=LazyGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="openaudit")
def cli() -> None:
    """Audit AI models on the Hugging Face Hub for licence terms and openness.

    Every verdict cites where it was read; what cannot be decided is "unknown".
    """


#: Errors of the project's own data or environment: one line, exit 2.
_INPUT_ERRORS = {
    "openaudit.rules.loader": "RuleError",
    "openaudit.kb.loader": "KnowledgeBaseError",
    "openaudit.hub.store": "StoreError",
    "openaudit.policy.loader": "PolicyError",
    "openaudit.lockfile": "LockError",
}


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; no traceback ever reaches the user (OPENAUDIT_DEBUG=1 shows it)."""
    import os

    try:
        return cli.main(args=argv, prog_name="openaudit", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("openaudit: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("OPENAUDIT_DEBUG"):
            raise
        module = sys.modules.get(type(exc).__module__)
        if _INPUT_ERRORS.get(type(exc).__module__) == type(exc).__name__ and module is not None:
            click.echo(f"openaudit: {exc}", err=True)
            sys.exit(2)
        click.echo(
            f"openaudit: internal error: {type(exc).__name__}: {exc} (OPENAUDIT_DEBUG=1 for details)",
            err=True,
        )
        sys.exit(70)
