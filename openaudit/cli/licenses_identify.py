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

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from openaudit.model import LicenseMatch

#: Bytes read per file; a licence is far smaller, and a huge file is not a licence file.
MAX_BYTES = 2_000_000


def _read(path: str) -> str:
    data = sys.stdin.buffer.read(MAX_BYTES) if path == "-" else _head(Path(path))
    if b"\x00" in data[:8192]:
        raise ValueError("binary file, not a text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _safe(text: str) -> str:
    """A path or quote from an untrusted file, printable on one terminal line."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(MAX_BYTES)


#: Names licensee looks at first: licence, copying, notice, patents, use policies, readme.
_LICENCE_NAME = re.compile(
    r"^(?:un)?licen[cs]e|^copying|^copyright|^notice|^patents|^use[_-]?policy"
    r"|^acceptable[_-]?use|^responsible[_-]?use|^legal",
    re.IGNORECASE,
)


def _expand(paths: tuple[str, ...]) -> list[tuple[str, bool]]:
    """Files to read, as (path, from a folder): a folder gives its own files (not its
    sub-folders), licence-like names first, then README, then the rest, like `licensee
    detect`. Hidden files are skipped."""
    out: list[tuple[str, bool]] = []
    for path in paths:
        folder = Path(path)
        if path == "-" or not folder.is_dir():
            out.append((path, False))
            continue
        files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]

        def rank(p: Path) -> tuple[int, str]:
            if _LICENCE_NAME.match(p.name):
                return (0, p.name.lower())
            return (1 if p.name.lower().startswith("readme") else 2, p.name.lower())

        out.extend((str(p), True) for p in sorted(files, key=rank))
    return out


def _as_dict(path: str, m: LicenseMatch, sha: str) -> dict[str, Any]:
    from openaudit.facts.licence_text import change_fields

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
        "ids": list(m.ids),
        "expression": m.expression,
        "parts": [
            {
                "id": p.license_id,
                "method": p.method,
                "lines": list(p.lines),
                "score": p.score,
                "spdx": p.spdx,
                "coverage": p.coverage,
                "quote": p.quote,
            }
            for p in m.parts
        ],
        "outside": [{"lines": [a, b], "words": n} for a, b, n in m.outside],
        "changes": [change_fields(c) for c in m.changes],
        "text_sha256": sha,
    }


def _result_text(m: LicenseMatch) -> str:
    if m.license_id is None:
        return "unknown"
    if m.expression and len(m.parts) > 1:
        return m.expression
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
    notes = (
        [where]
        if len(m.parts) < 2
        else [f"{p.license_id} {p.method} lines {p.lines[0]}-{p.lines[1]}" for p in m.parts]
    )
    if m.method.startswith("notice"):
        notes.append("a notice naming the licence, not its text")
    if m.method.startswith("partial"):
        notes.append(f"only {m.coverage:.0%} of the text, the rest missing")
    for c in m.changes[:3]:
        quoted = c.text if c.kind != "removed" else c.reference_text
        notes.append(f'line {c.lines[0]}: {c.kind} "{quoted[:60]}"')
    if len(m.changes) > 3:
        notes.append(f"{len(m.changes) - 3} more changes")
    notes.extend(f"lines {a}-{b}: {n} words outside any licence" for a, b, n in m.outside)
    return "; ".join(n for n in notes if n)


@click.command("identify")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option(
    "--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True
)
def identify(files: tuple[str, ...], fmt: str) -> None:
    """Identify the licence(s) or acceptable-use policy in each FILE.

    FILE may be a folder (its files, licence-like names first) or `-` for standard
    input. Compares each text with the reference texts in licenses/texts/ and prints
    the best match, its score and the threshold; below the threshold the result is
    "unknown" with the closest candidates. A file holding several licences gives an
    SPDX expression; a notice naming a licence gives method `notice`; words differing
    from the reference text are listed with their lines. Exit status 2 if a file could
    not be read (the others are still identified), else 0.
    """
    from openaudit.kb import load_kb
    from openaudit.kb.identify import identify_text

    kb = load_kb()
    results: list[tuple[str, LicenseMatch, str]] = []
    errors: list[dict[str, str]] = []
    for path, in_folder in _expand(files):
        try:
            text = _read(path)
        except (OSError, ValueError) as exc:
            if in_folder and isinstance(exc, ValueError):
                continue  # a folder's binary files are not licence texts
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            click.echo(f"openaudit: cannot read {_safe(path)}: {reason}", err=True)
            errors.append({"path": path, "error": reason})
            continue
        sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        results.append((path, identify_text(text, kb), sha))

    if fmt == "json":
        doc = {"files": [_as_dict(p, m, sha) for p, m, sha in results], "errors": errors}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif results:
        header = ("FILE", "RESULT", "SCORE", "THRESHOLD", "METHOD", "DETAIL")
        rows = [header] + [
            (
                _safe(p),
                _result_text(m),
                f"{m.score:.3f}",
                f"{m.threshold:.2f}",
                m.method,
                _safe(_detail(m)),
            )
            for p, m, _ in results
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
        for row in rows:
            cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
            click.echo("  ".join([*cells, row[-1]]).rstrip())
    if errors:
        sys.exit(2)
