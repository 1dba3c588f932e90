"""Licence identification: reference texts, variants, embedded texts, expressions, CLI.

A wrong "open" is the worst bug this tool can have, so besides "finds the
right licence" these tests pin the refusals: near variants without a telling
phrase, another version of a licence, a notice that only names a licence, and
prose are all unknown, with the candidates shown.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from openaudit.cli.licenses_identify import identify
from openaudit.kb import load_kb
from openaudit.kb.identify import (
    THRESHOLD,
    identify_declared,
    identify_text,
    normalise,
    parse_expression,
    texts_dir,
)
from openaudit.model import LicenseEntry

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).parent / "fixtures" / "licence_texts"
TEXTS = texts_dir()
MANIFEST: list[dict[str, Any]] = yaml.safe_load((TEXTS / "manifest.yml").read_text())["texts"]

#: The most used licence ids on the Hub (by model count), plus the AI licences of the corpus.
MOST_USED = (
    "apache-2.0", "mit", "cc-by-nc-4.0", "llama3.1", "llama3", "llama2", "cc-by-4.0",
    "cc-by-sa-4.0", "gemma", "llama3.2", "cc-by-nc-sa-4.0", "gpl-3.0", "creativeml-openrail-m",
    "bigscience-openrail-m", "openrail++", "afl-3.0", "bsd-3-clause", "cc0-1.0", "agpl-3.0",
    "llama3.3", "cc-by-nc-nd-4.0", "bigscience-bloom-rail-1.0", "bigcode-openrail-m", "deepseek",
    "tongyi-qianwen", "gpl-2.0", "lgpl-3.0", "mpl-2.0", "bsd-2-clause", "unlicense", "llama4",
)  # fmt: skip


@pytest.fixture(scope="module")
def kb() -> Any:
    return load_kb()


def text(name: str) -> str:
    return (TEXTS / name).read_text(encoding="utf-8")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- reference texts


@pytest.mark.parametrize("item", MANIFEST, ids=lambda i: i["file"])
def test_every_reference_text_identifies_to_itself(item: dict[str, Any]) -> None:
    m = identify_text(text(item["file"]))
    assert m.license_id == item["id"], (m.method, m.candidates)
    assert m.score == pytest.approx(1.0)
    assert m.kind == ("policy" if item["kind"] == "policy" else "licence")


@pytest.mark.parametrize("licence_id", MOST_USED)
def test_most_used_licences_identify_to_their_kb_ids(kb: Any, licence_id: str) -> None:
    assert kb.get(licence_id) is not None, f"{licence_id} missing from the knowledge base"
    item = next(i for i in MANIFEST if i["id"] == licence_id)
    m = identify_text(text(item["file"]), kb)
    assert m.license_id == licence_id
    assert m.score >= m.threshold == THRESHOLD


def test_reference_ids_resolve_to_the_knowledge_base(kb: Any) -> None:
    """Each reference text names a KB entry, except the few kept only for recognition."""
    unresolved = set()
    for item in MANIFEST:
        if item["kind"] == "policy":
            assert kb.get(item["license"]) is not None, item["file"]
            continue
        m = identify_text(text(item["file"]), kb)
        if m.license_id is None:
            assert m.method == "not-in-kb"
            unresolved.add(item["id"])
    assert unresolved <= {"apple-ml-ferret"}, unresolved


def test_texts_folder_stays_small() -> None:
    total = sum(p.stat().st_size for p in TEXTS.rglob("*") if p.is_file())
    assert total < 3_000_000


# --------------------------------------------------------------------------- variants


@pytest.mark.parametrize(
    "licence_id", ["llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4"]
)
def test_llama_versions_are_told_apart(licence_id: str) -> None:
    m = identify_text(text(f"{licence_id}.txt"))
    assert m.license_id == licence_id
    others = [c for c in m.candidates if c[0] != licence_id]
    assert others and all(c[0].startswith("llama") for c in others)


def test_llama_variants_score_close_and_a_phrase_decides() -> None:
    m = identify_text(text("llama3.2.txt"))
    assert m.license_id == "llama3.2"
    runner_up = m.candidates[1]
    assert runner_up[0].startswith("llama") and runner_up[1] > 0.9
    assert m.method.endswith("+phrase")


def test_llama_text_without_version_is_not_guessed() -> None:
    stripped = re.sub(r"3\.1", "", text("llama3.1.txt"))
    m = identify_text(stripped)
    assert m.license_id is None
    assert m.method in ("ambiguous-variant", "below-threshold")
    assert any(c[0].startswith("llama3") for c in m.candidates)


@pytest.mark.parametrize(
    ("licence_id", "rival"),
    [
        ("cc-by-nc-4.0", "cc-by-nc-sa-4.0"),
        ("cc-by-nc-sa-4.0", "cc-by-nc-4.0"),
        ("cc-by-nc-nd-4.0", "cc-by-nc-4.0"),
        ("cc-by-4.0", "cc-by-nc-4.0"),
        ("cc-by-nc-3.0", "cc-by-nc-4.0"),
        ("cc-by-nc-2.0", "cc-by-nc-3.0"),
        ("gpl-2.0", "gpl-3.0"),
        ("gpl-3.0", "gpl-2.0"),
        ("gpl-3.0", "agpl-3.0"),
        ("lgpl-2.1", "lgpl-3.0"),
        ("lgpl-3.0", "gpl-3.0"),
        ("bsd-2-clause", "bsd-3-clause"),
        ("bsd-3-clause", "bsd-2-clause"),
        ("bsd-3-clause-clear", "bsd-3-clause"),
        ("creativeml-openrail-m", "openrail++"),
        ("openrail++", "creativeml-openrail-m"),
        ("tongyi-qianwen", "tongyi-qianwen-research"),
        ("apache-2.0", "ecl-2.0"),
    ],
)
def test_close_variants_are_told_apart(licence_id: str, rival: str) -> None:
    m = identify_text(text(f"{licence_id}.txt"))
    assert m.license_id == licence_id
    scores = dict(m.candidates)
    assert scores.get(rival, 0.0) < scores[licence_id]


def test_another_version_is_not_given_this_versions_terms(kb: Any) -> None:
    older = text("yi-license.txt").replace("Version: 2.1", "Version: 2.0")
    m = identify_text(older, kb)
    assert m.license_id is None
    assert m.method == "other-version"
    assert m.candidates[0][0] == "yi-license"


# --------------------------------------------------------------------------- real-world shapes


def test_copyright_header_and_reflow_still_match(kb: Any) -> None:
    m = identify_text(fixture("mit-copyright.txt"), kb)
    assert (m.license_id, m.method) == ("mit", "exact")
    a = identify_text(fixture("apache-2.0-reflowed.txt"), kb)
    assert a.license_id == "apache-2.0"
    assert a.score > 0.99


def test_bsd_with_a_named_holder(kb: Any) -> None:
    m = identify_text(fixture("bsd-3-clause-holder.txt"), kb)
    assert m.license_id == "bsd-3-clause"
    assert m.score > 0.97


def test_licence_appended_to_a_readme_is_found_with_its_lines(kb: Any) -> None:
    readme = fixture("readme-with-mit.md")
    m = identify_text(readme, kb)
    assert m.license_id == "mit"
    assert m.method == "contained"
    assert m.outside_words > 50
    assert m.lines is not None
    lines = readme.splitlines()
    assert lines[m.lines[0] - 1].startswith("MIT License")
    assert "DEALINGS IN THE" in lines[m.lines[1] - 1]


def test_extra_text_after_a_licence_is_reported_as_not_compared(kb: Any) -> None:
    added = fixture("mit-copyright.txt") + (
        "\nAdditional restriction: the Software may not be used for any commercial purpose, "
        "nor by any company with more than ten employees, without a separate written licence.\n"
    )
    m = identify_text(added, kb)
    assert m.license_id == "mit"
    assert m.method == "contained"
    assert m.outside_words >= 20


def test_a_licence_notice_names_the_licence_as_a_notice_only(kb: Any) -> None:
    """A notice is not the text: method `notice`, and its other sentences are not vouched for."""
    m = identify_text(fixture("apache-notice.txt"), kb)
    assert (m.license_id, m.method, m.expression) == ("apache-2.0", "notice", "Apache-2.0")
    assert m.parts[0].quote.startswith("released under the Apache License, Version 2.0")
    assert m.outside and m.outside[0][:2] == (1, 5)


def test_prose_is_unknown(kb: Any) -> None:
    m = identify_text(fixture("prose.txt"), kb)
    assert m.license_id is None
    assert m.score < 0.2
    assert identify_text("", kb).method == "too-short"


def test_truncated_licence_is_unknown_with_the_candidate(kb: Any) -> None:
    head = fixture("mit-copyright.txt")[:300]
    m = identify_text(head, kb)
    assert m.license_id is None
    assert m.candidates[0][0] == "mit"


def test_use_policy_is_a_policy_linked_to_its_licence(kb: Any) -> None:
    for version in ("3.1", "3.2", "3.3"):
        m = identify_text(text(f"aup/llama{version}-aup.txt"), kb)
        assert (m.kind, m.license_id, m.policy_for) == (
            "policy",
            f"llama{version}-aup",
            f"llama{version}",
        )
    m = identify_text(text("aup/gemma-pup.txt"), kb)
    assert (m.kind, m.policy_for) == ("policy", "gemma")


class _PartialKB:
    """A knowledge base missing most entries: matches it lacks must not be named."""

    def __init__(self, ids: set[str]) -> None:
        self.ids = ids

    def _entry(self, licence_id: str) -> LicenseEntry:
        return LicenseEntry(licence_id, licence_id, "", "permissive", "allowed", False, None)

    def get(self, licence_id: str) -> LicenseEntry | None:
        return self._entry(licence_id) if licence_id in self.ids else None

    def find(self, name: str) -> LicenseEntry | None:
        return None

    def by_spdx(self, spdx: str) -> LicenseEntry | None:
        return None


def test_reference_without_kb_entry_is_not_named() -> None:
    m = identify_text(text("llama3.1.txt"), _PartialKB({"mit"}))
    assert m.license_id is None
    assert m.method == "not-in-kb"
    assert m.candidates[0][0] == "llama3.1"


# --------------------------------------------------------------------------- normalise, speed


def test_normalise_drops_what_varies_between_copies() -> None:
    a = normalise(
        "# **Licence**\n\n1. You may “copy” it — see <https://example.com/x>.\n"
        "Copyright (c) 2024 Someone\n* [terms](https://example.com) apply"
    )
    assert a == "license you may copy it see terms apply"
    assert normalise("Llama 3.1 Version Release Date") == "llama 3.1 version release date"
    assert normalise("Copyright (C) <year> <name of author>\nnon-commercial use") == (
        "noncommercial use"
    )


# --------------------------------------------------------------------------- declared values


def test_expressions_parse_with_kb_ids(kb: Any) -> None:
    e = parse_expression("Apache-2.0 OR MIT", kb)
    assert (e.ids, e.operators, e.unknown, e.error) == (("apache-2.0", "mit"), ("OR",), (), None)
    e = parse_expression("(MIT AND CC-BY-4.0)", kb)
    assert e.ids == ("mit", "cc-by-4.0") and e.operators == ("AND",)
    e = parse_expression("apache-2.0 AND llama3.1", kb)
    assert e.ids == ("apache-2.0", "llama3.1")
    e = parse_expression("MIT AND Made-Up-License-1.0", kb)
    assert e.ids == ("mit",) and e.unknown == ("Made-Up-License-1.0",)
    e = parse_expression("GPL-2.0-only WITH Classpath-exception-2.0", kb)
    assert e.ids == ("gpl-2.0",) and e.exceptions == ("Classpath-exception-2.0",)
    assert parse_expression("MIT OR (", kb).error


def test_declared_values_map_exactly_never_fuzzily(kb: Any) -> None:
    assert identify_declared("llama3.1", kb).ids == ("llama3.1",)
    assert identify_declared("license:mit", kb).ids == ("mit",)
    d = identify_declared("Apache-2.0", kb)
    assert d.ids == ("apache-2.0",)
    d = identify_declared("Llama 3.1 Community License Agreement", kb)
    assert (d.ids, d.method) == (("llama3.1",), "alias")
    d = identify_declared("mit OR apache-2.0", kb)
    assert (d.ids, d.method) == (("mit", "apache-2.0"), "expression")
    for near_miss in ("Llama 3.1 Licence v2", "Apache License 3.0", "MIT-ish", ""):
        d = identify_declared(near_miss, kb)
        assert d.ids == () and d.method == "none", near_miss


# --------------------------------------------------------------------------- CLI


def test_cli_table_json_and_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    files = [str(FIXTURES / "mit-copyright.txt"), str(missing), str(FIXTURES / "prose.txt")]
    result = CliRunner().invoke(identify, files)
    assert result.exit_code == 2
    assert f"cannot read {missing}" in result.stderr
    assert result.stderr.count("\n") == 1
    assert "mit" in result.stdout and "unknown" in result.stdout

    ok = CliRunner().invoke(identify, ["--format", "json", str(FIXTURES / "readme-with-mit.md")])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    row = doc["files"][0]
    assert (row["license_id"], row["method"], doc["errors"]) == ("mit", "contained", [])
    assert row["threshold"] == THRESHOLD and row["lines"][0] > 1


# --------------------------------------------------------------------------- ../shared


SPDX_DIR = SHARED / "license-texts" / "spdx"


@pytest.mark.skipif(not SPDX_DIR.is_dir(), reason="../shared/license-texts is not present")
def test_raw_spdx_templates_identify(kb: Any) -> None:
    """The templates as published (URLs, notes and headers around the text) still match."""
    expected = {i["spdx"]: i["id"] for i in MANIFEST if i.get("spdx")}
    wrong = {}
    for path in sorted(SPDX_DIR.glob("*.txt")):
        if path.stem not in expected:
            continue
        m = identify_text(path.read_text(encoding="utf-8"))
        if path.stem == "LGPL-3.0-only":
            # This template carries the whole GPL-3.0 after the LGPL: two licences in one
            # file, and the answer must say so rather than pick one.
            assert m.license_id is None and m.method == "ambiguous-variant"
            assert {"lgpl-3.0", "gpl-3.0"} <= {c[0] for c in m.candidates}
        elif m.license_id != expected[path.stem]:
            wrong[path.stem] = (m.license_id, m.method, m.candidates)
    assert not wrong


CORPUS = SHARED / "corpus"
_LICENCE_LIKE = re.compile(
    r"^(licen[cs]e|copying|use[_-]?policy|acceptable[_-]?use|notice)([._-].*)?$", re.I
)


@pytest.mark.skipif(
    not (CORPUS / "labels.json").is_file(), reason="../shared/corpus is not present"
)
def test_corpus_licence_files_agree_with_labels(kb: Any) -> None:
    """Every licence-like file of the corpus: a named licence must match the label.

    Unknown is allowed (it never claims anything); a wrong name is not.
    """
    labels = {x["id"]: x for x in json.loads((CORPUS / "labels.json").read_text())}
    rows = []
    for path in sorted((CORPUS / "models").glob("*/*/files/*")):
        if not _LICENCE_LIKE.match(path.name):
            continue
        model = f"{path.parts[-4]}/{path.parts[-3]}"
        pattern = (labels.get(model) or {}).get("licence_re")
        if not pattern:
            continue
        m = identify_text(path.read_text(encoding="utf-8", errors="replace"), kb)
        named = m.policy_for if m.kind == "policy" else m.license_id
        rows.append((model, path.name, named, m.score, pattern))
    assert rows, "no licence-like files found in the corpus"
    wrong = [r for r in rows if r[2] is not None and not re.search(r[4], r[2])]
    right = [r for r in rows if r[2] is not None and re.search(r[4], r[2])]
    print(
        f"\ncorpus licence files: {len(rows)}, right {len(right)}, wrong {len(wrong)}, "
        f"unknown {len(rows) - len(right) - len(wrong)}"
    )
    for r in rows:
        print("  ", *r)
    assert not wrong
    assert len(right) >= len(rows) // 2
