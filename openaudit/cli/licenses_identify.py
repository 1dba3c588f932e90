"""`openaudit licenses identify FILE...`: name the licence or use policy a file contains.

Like `licensee detect`, it shows the evidence behind each answer (score,
threshold, where in the file the licence was found) and, when the answer is
"unknown", what came closest, so a reviewer can judge a near miss instead of
trusting a silent guess. One unreadable file must not hide the others' results:
it gets a one-line error and the exit status says something was missed.

Imported when `openaudit licenses` is, so everything heavy (the text index,
yaml, the knowledge base) is loaded inside the command.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from openaudit.model import LicenseMatch

#: Bytes read per file; a licence is far smaller, and a huge file is not a licence file.
MAX_BYTES = 2_000_000


def _read(path: str) -> str:
    data = Path(path).read_bytes()[:MAX_BYTES]
    if b"\x00" in data[:8192]:
        raise ValueError("binary file, not a text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _as_dict(path: str, m: LicenseMatch) -> dict[str, Any]:
    return {
        "path": path,
        "license_id": m.license_id,
        "kind": m.kind,
        "policy_for": m.policy_for,
        "score": m.score,
        "threshold": m.threshold,
        "method": m.method,
        "candidates": [{"id": i, "score": s} for i, s in m.candidates],
        "lines": list(m.lines) if m.lines else None,
        "coverage": m.coverage,
        "outside_words": m.outside_words,
        "reference": m.reference,
    }


def _result_text(m: LicenseMatch) -> str:
    if m.license_id is None:
        return "unknown"
    if m.kind == "policy":
        return f"{m.license_id} (use policy of {m.policy_for})" if m.policy_for else m.license_id
    return m.license_id


def _detail(m: LicenseMatch) -> str:
    """What a reviewer needs to judge the row: why unknown, or what was not compared."""
    closest = ", ".join(f"{i} {s:.3f}" for i, s in m.candidates)
    if m.license_id is None:
        reasons = {
            "below-threshold": "below threshold",
            "ambiguous-variant": "close variants, no distinguishing phrase",
            "other-version": "another version of the closest licence",
            "not-in-kb": "matches a reference text the knowledge base has no entry for",
            "no-match": "no licence text found",
            "too-short": "too short to compare",
        }
        reason = reasons.get(m.method, m.method)
        return f"{reason}; closest: {closest}" if closest else reason
    where = f"lines {m.lines[0]}-{m.lines[1]}" if m.lines else ""
    if m.method.startswith("contained"):
        return f"found at {where}; {m.outside_words} words around it not compared"
    return where


@click.command("identify")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option(
    "--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True
)
def identify(files: tuple[str, ...], fmt: str) -> None:
    """Identify the licence or acceptable-use policy in each FILE.

    Compares each file with the reference texts in licenses/texts/ and prints
    the best match, its score and the threshold; below the threshold the result
    is "unknown" with the closest candidates. Exit status 2 if a file could not
    be read (the others are still identified), else 0.
    """
    from openaudit.kb import load_kb
    from openaudit.kb.identify import identify_text

    kb = load_kb()
    results: list[tuple[str, LicenseMatch]] = []
    errors: list[dict[str, str]] = []
    for path in files:
        try:
            text = _read(path)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            click.echo(f"openaudit: cannot read {path}: {reason}", err=True)
            errors.append({"path": path, "error": reason})
            continue
        results.append((path, identify_text(text, kb)))

    if fmt == "json":
        doc = {"files": [_as_dict(p, m) for p, m in results], "errors": errors}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif results:
        header = ("FILE", "RESULT", "SCORE", "THRESHOLD", "METHOD", "DETAIL")
        rows = [header] + [
            (p, _result_text(m), f"{m.score:.3f}", f"{m.threshold:.2f}", m.method, _detail(m))
            for p, m in results
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
        for row in rows:
            cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
            click.echo("  ".join([*cells, row[-1]]).rstrip())
    if errors:
        sys.exit(2)
