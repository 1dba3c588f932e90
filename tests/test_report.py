"""`openaudit report`: Markdown scorecards, index, badges; escaping, determinism, licence terms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fakehub import FakeHub
from tests.report_helpers import make_report, render_markdown, table_shapes

#: Tags the report itself writes when rendered; anything else came from a card.
OWN_TAGS = {
    "a",
    "h1",
    "h2",
    "h3",
    "img",
    "li",
    "ol",
    "p",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "em",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, _fixture_hub_server: FakeHub) -> Path:
    _fixture_hub_server.reset()
    out, code, stderr = make_report(_fixture_hub_server.url, tmp_path_factory.mktemp("r"), "--html")
    assert code == 3, stderr  # acme/disabled-model cannot be audited: said, and the rest written
    assert "acme/disabled-model" in stderr
    return out


def _markdown_files(report: Path) -> list[Path]:
    return sorted(report.rglob("*.md"))


def test_one_scorecard_per_model_and_an_index(report: Path) -> None:
    names = {p.relative_to(report).as_posix() for p in _markdown_files(report)}
    assert "README.md" in names
    assert "acme/llama-3.1-acme-chat.md" in names
    assert "acme/disabled-model.md" in names
    # The hostile folder's names cannot climb out of the report or hide.
    assert all(".." not in n and "|" not in n and "<" not in n for n in names)
    assert len(names) == 10
    index = (report / "README.md").read_text()
    assert "## Legend" in index
    # Sorted by openness: the Apache encoder above the non-commercial and unreadable ones.
    order = [m for m in re.findall(r"\]\(([^)]+)\.md\)", index)]
    assert order.index("acme/tiny-apache-encoder") < order.index("acme/nc-summarizer")
    assert order[-1] == "acme/disabled-model"
    for badge in report.glob("badges/*.svg"):
        assert "http" not in badge.read_text().replace("http://www.w3.org/2000/svg", "")


def test_no_input_born_markup_survives_rendering(report: Path) -> None:
    for path in _markdown_files(report):
        text = path.read_text()
        assert not table_shapes(text), (path, table_shapes(text))
        html = render_markdown(text)
        tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html))
        assert tags <= OWN_TAGS, (path, tags - OWN_TAGS)
        assert "onerror" not in re.sub(r"&[a-z]+;|\\", "", "".join(re.findall(r"<[^>]+>", html)))
        for target in re.findall(r'(?:href|src)="([^"]*)"', html):
            assert target.startswith(
                (
                    "http://127.0.0.1",
                    "https://",
                    "../",
                    "acme/",
                    "fixture-org/",
                    "trap-org/",
                    "cover-org/",
                    "evil_org_b/",
                )
            ), (path, target)
            # A scheme other than http(s) never becomes a link target.
            assert ":" not in target or target.startswith(("http://", "https://")), (path, target)
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text), path
    hostile = next(report.glob("evil_org_b/*.md")).read_text()
    # The text is there, as text.
    assert "\\<script\\>alert('card')\\</script\\>" in hostile
    assert "pwned" not in hostile and "owned title" not in hostile


def test_llama_scorecard_names_every_condition_with_its_quote(report: Path) -> None:
    from openaudit.kb import load_kb

    text = (report / "acme/llama-3.1-acme-chat.md").read_text()
    terms = text.split("## Licence terms in plain words", 1)[1].split("\n## ", 1)[0]
    entry = load_kb().get("llama3.1")
    assert entry is not None
    rows = {
        m[0]: m[1]
        for m in re.findall(
            r"^\| (?:condition|restriction): ([a-z-]+)[^|]*\|[^|]*\| (.*) \|$", terms, re.M
        )
    }
    for name in (*entry.condition_names, *entry.restriction_names):
        assert name in rows, name
        assert "“" in rows[name] and "][" in rows[name], (name, rows[name])  # a quote and its link
    assert "700,000,000" in terms
    assert "Built with Llama" in terms
    assert "at the beginning of any such AI model name" in terms


def test_scorecards_stay_small(report: Path) -> None:
    cards = [p for p in _markdown_files(report) if p.name != "README.md"]
    sizes = [p.stat().st_size for p in cards]
    assert sum(sizes) / len(sizes) < 8192, sizes


def test_same_snapshots_give_identical_files(
    report: Path, fixture_hub: FakeHub, tmp_path: Path
) -> None:
    again, _, _ = make_report(fixture_hub.url, tmp_path, "--html")
    first = {p.relative_to(report): p.read_bytes() for p in report.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert any(k.as_posix().startswith("html/") for k in first)
    differ = [str(k) for k in first if first[k] != second[k]]
    # Only the fake Hub's port differs between two servers; same server, same bytes.
    assert not differ, differ


def test_from_json_renders_the_same_scorecards(
    report: Path, fixture_hub: FakeHub, tmp_path: Path
) -> None:
    from tests.helpers import run_cli
    from tests.report_helpers import MODELS

    stored = tmp_path / "audit.json"
    run = run_cli(
        "audit",
        *MODELS[:-1],
        "--format",
        "json",
        "-o",
        str(stored),
        "--endpoint",
        fixture_hub.url,
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    # Gated files are not read without a token: those models are incomplete (exit 3).
    assert run.code == 3 and "incomplete" in run.stderr, run.stderr
    out = tmp_path / "from-json"
    # No Hub at all: the stored audit is all it reads.
    run = run_cli(
        "report",
        "--from-json",
        str(stored),
        "--out",
        str(out),
        "--date",
        "2026-01-02",
        "--endpoint",
        "http://127.0.0.1:9",
    )
    assert run.code == 0, run.stderr
    for name in ("acme/llama-3.1-acme-chat.md", "trap-org/remote-code-model.md"):
        assert (out / name).read_text() == (report / name).read_text(), name


def test_changed_since_names_what_moved(fixture_hub: FakeHub, tmp_path: Path) -> None:
    import json

    from tests.helpers import run_cli

    stored = tmp_path / "old.json"
    run_cli(
        "audit",
        "acme/llama-3.1-acme-chat",
        "acme/tiny-apache-encoder",
        "--format",
        "json",
        "-o",
        str(stored),
        "--endpoint",
        fixture_hub.url,
        "--cache-dir",
        str(tmp_path / "c"),
    )
    doc = json.loads(stored.read_text())
    llama = doc["models"][0]
    llama["licence"]["ids"] = ["apache-2.0"]
    llama["licence"]["status"] = "open"
    llama["details"]["gated"] = True
    doc["models"] = [llama]  # the encoder is new since
    stored.write_text(json.dumps(doc))
    out = tmp_path / "r"
    run = run_cli(
        "report",
        "acme/llama-3.1-acme-chat",
        "acme/tiny-apache-encoder",
        "--since",
        str(stored),
        "--out",
        str(out),
        "--endpoint",
        fixture_hub.url,
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert run.code == 0, run.stderr
    text = (out / "acme/llama-3.1-acme-chat.md").read_text()
    changed = text.split("## Changed since", 1)[1].split("\n## ", 1)[0]
    assert "- licence: apache-2.0 → llama3.1" in changed
    assert "Licence: open → restricted" in changed
    assert "gated: True → False" in changed
    assert "licence term added: restriction user-threshold (700,000,000)" in changed
    assert "licence term removed: condition state-changes" in changed
    assert "new since" in (out / "acme/tiny-apache-encoder.md").read_text()


def test_templates_can_be_overridden(fixture_hub: FakeHub, tmp_path: Path) -> None:
    from tests.helpers import run_cli

    templates = tmp_path / "t"
    templates.mkdir()
    (templates / "index.md.j2").write_text("# Ours\n{% for c in cards %}- {{ c.id }}\n{% endfor %}")
    out = tmp_path / "r"
    run = run_cli(
        "report",
        "--path",
        str(hostile_folder(tmp_path)),
        "--templates",
        str(templates),
        "--out",
        str(out),
        "--offline",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert run.code == 0, run.stderr
    index = (out / "README.md").read_text()
    # An overriding template escapes by default too.
    assert index.startswith("# Ours\n- evil\\|org\\<b\\>/x\\]")


def hostile_folder(tmp_path: Path) -> Path:
    from tests import hostile

    return hostile.make(tmp_path / "h")


def test_csv_and_json_headers(fixture_hub: FakeHub, tmp_path: Path) -> None:
    import csv
    import io

    from tests.helpers import run_cli

    run = run_cli(
        "audit",
        "acme/tiny-apache-encoder",
        "acme/disabled-model",
        "--path",
        str(hostile_folder(tmp_path)),
        "--format",
        "csv",
        "--endpoint",
        fixture_hub.url,
        "--cache-dir",
        str(tmp_path / "c"),
    )
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert [r["id"] for r in rows][:2] == ["acme/tiny-apache-encoder", "acme/disabled-model"]
    assert rows[0]["licence"] == "open" and rows[0]["osaid"] == "conformant"
    assert rows[1]["audited"] == "no"
    assert not any(ch in run.stdout for ch in "\x1b\x07\x9b")
    run = run_cli(
        "audit",
        "acme/tiny-apache-encoder",
        "--format",
        "json",
        "--endpoint",
        fixture_hub.url,
        "--cache-dir",
        str(tmp_path / "c"),
    )
    doc = run.json()
    assert doc["endpoint"] == fixture_hub.url
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", doc["generated_at"])
    assert doc["models"][0]["audited"] is True


def _tty_run(args: list[str], env: dict[str, str]) -> str:
    """Run the CLI with its standard output on a pseudo-terminal; return what it wrote."""
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "openaudit", *args],
        stdout=slave,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_terminal_table_colour_width_and_hostile_text(tmp_path: Path) -> None:
    import os

    folder = hostile_folder(tmp_path)
    args = ["audit", "--path", str(folder), "--offline", "--cache-dir", str(tmp_path / "c")]
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = _tty_run(args, {**env, "COLUMNS": "132"})
    assert "\x1b[3" in coloured  # statuses coloured on a terminal
    assert max(len(line) for line in coloured.splitlines()) > 80  # the terminal's width is used
    plain = _tty_run(args, {"NO_COLOR": "1", "COLUMNS": "132"})
    assert "\x1b" not in plain
    # The card's own escapes never reach the terminal: no title change, no colour, no clear.
    assert "pwned" not in coloured
    for seq in ("\x1b]", "\x1b[2J", "\x07", "\x9b"):
        assert seq not in coloured
    assert "evil|org<b>/x](javascript:alert(1))`code`" in plain.replace("\r", "").replace(
        "\n", ""
    ).replace(" ", "")


GOLDEN = Path(__file__).resolve().parent / "fixtures" / "golden" / "llama-3.1-acme-chat.md"


def test_scorecard_matches_the_reviewed_golden_file(
    report: Path, _fixture_hub_server: FakeHub
) -> None:
    """A reviewed scorecard, byte for byte (the fake Hub's address normalised).

    When a deliberate change moves it, regenerate with OPENAUDIT_UPDATE_GOLDEN=1, read the
    diff as a reviewer would, and commit it.
    """
    import os

    text = (report / "acme/llama-3.1-acme-chat.md").read_text()
    text = re.sub(r"http://127\.0\.0\.1:\d+", "https://hub.example", text)
    if os.environ.get("OPENAUDIT_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "scorecard moved: see this test's docstring"


def test_markdown_format_of_a_hostile_card(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    run = run_cli(
        "audit",
        "--path",
        str(hostile_folder(tmp_path)),
        "--offline",
        "--format",
        "markdown",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert not table_shapes(run.stdout)
    html = render_markdown(run.stdout)
    assert set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html)) <= OWN_TAGS
    assert not re.findall(r'(?:href|src)="(?!https?://)', html)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", run.stdout)


@pytest.mark.parametrize(
    "licence_id",
    [
        "llama2",
        "llama3",
        "llama3.1",
        "llama3.2",
        "llama3.3",
        "llama4",
        "gemma",
        "apache-2.0",
        "mit",
    ],
)
def test_every_term_of_common_model_licences_has_its_quote(licence_id: str) -> None:
    """The scorecard's "which conditions?" answer quotes the licence for each term."""
    from openaudit.report.view import licence_terms

    (lic,) = licence_terms([licence_id])
    assert lic.terms
    for term in lic.terms:
        assert term.quotes, (
            f"{licence_id}: {term.kind} {term.name} has no quote (tag one in licenses/{licence_id}.yml)"
        )
        assert all(url and url.startswith("https://") for _, url in term.quotes)
