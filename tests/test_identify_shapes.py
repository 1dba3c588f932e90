"""Licence files as people ship them (issue 14): notices, partial texts, several licences in
one file, close variants, folders and standard input. Every input is made here from the
reference texts or written by hand; nothing is read from the network."""

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
from openaudit.kb.identify import _index, _Scored, _tiebreak, identify_text, texts_dir

TEXTS = texts_dir()
MANIFEST: list[dict[str, Any]] = yaml.safe_load((TEXTS / "manifest.yml").read_text())["texts"]


@pytest.fixture(scope="module")
def kb() -> Any:
    return load_kb()


def text(name: str) -> str:
    return (TEXTS / name).read_text(encoding="utf-8")


MIT = "Copyright (c) 2024 Example Org\n\n" + text("mit.txt")


# --------------------------------------------------------------------------- notices


@pytest.mark.parametrize(
    ("notice", "expected", "expression"),
    [
        ("Licensed under the Apache License, Version 2.0", "apache-2.0", "Apache-2.0"),
        (
            "Llama 2 is licensed under the LLAMA 2 Community License, Copyright (c) Meta "
            "Platforms, Inc. All Rights Reserved.",
            "llama2",
            None,
        ),
        (
            "Llama 3.2 is licensed under the Llama 3.2 Community License, Copyright © Meta "
            "Platforms, Inc. All Rights Reserved.",
            "llama3.2",
            None,
        ),
        ("// SPDX-License-Identifier: MIT\n", "mit", "MIT"),
        ("This model is released under the CC BY-NC 4.0 license.", "cc-by-nc-4.0", None),
        (
            "This Source Code Form is subject to the terms of the Mozilla Public License, v. "
            "2.0. If a copy of the MPL was not distributed with this file, You can obtain one "
            "at http://mozilla.org/MPL/2.0/.",
            "mpl-2.0",
            "MPL-2.0",
        ),
        ("License: MIT", "mit", "MIT"),
    ],
)
def test_a_notice_names_its_licence_as_a_notice(
    kb: Any, notice: str, expected: str, expression: str | None
) -> None:
    m = identify_text(notice, kb)
    assert (m.license_id, m.method) == (expected, "notice"), (m.method, m.candidates)
    assert m.parts[0].quote
    assert not m.outside, m.outside
    if expression:
        assert m.expression == expression


@pytest.mark.parametrize(
    "notice",
    [
        "Licensed under the Llama 3.7 Community License",  # a version the KB does not have
        "Licensed under the Apache License, Version 3.0",
        "This model is licensed under the Llama license.",  # no version: which Llama?
        "We compare against models licensed under various licences.",
    ],
)
def test_a_notice_never_names_another_version(kb: Any, notice: str) -> None:
    m = identify_text(notice, kb)
    assert m.license_id is None or m.license_id not in ("llama2", "llama3", "apache-2.0"), m


def test_a_dual_licence_pointer_is_an_or_expression(kb: Any) -> None:
    m = identify_text(
        "This project is dual licensed under Apache 2.0 or BSD-3-Clause, see "
        "LICENSE.APACHE and LICENSE.BSD",
        kb,
    )
    assert m.expression == "Apache-2.0 OR BSD-3-Clause"
    assert set(m.ids) == {"apache-2.0", "bsd-3-clause"}
    assert {p.method for p in m.parts} == {"notice"}
    m = identify_text("SPDX-License-Identifier: MIT OR Apache-2.0", kb)
    assert m.expression == "MIT OR Apache-2.0"


def test_a_notice_with_added_terms_reports_them_with_lines(kb: Any) -> None:
    m = identify_text(
        "Licensed under the Apache License, Version 2.0.\n\n"
        "Commercial use requires a separate agreement with Example Org.\n",
        kb,
    )
    assert m.license_id == "apache-2.0" and m.method == "notice"
    assert m.outside and m.outside[0][0] <= 3 <= m.outside[0][1]


# --------------------------------------------------------------------------- partial texts


@pytest.mark.parametrize("cut", [0.15, 0.3])
@pytest.mark.parametrize(
    "name", ["apache-2.0.txt", "gpl-3.0.txt", "llama3.1.txt", "mit.txt", "cc-by-nc-4.0.txt"]
)
def test_a_cut_text_is_partial_with_the_share_covered(kb: Any, name: str, cut: float) -> None:
    full = text(name)
    m = identify_text(full[: int(len(full) * (1 - cut))], kb)
    item = next(i for i in MANIFEST if i["file"] == name)
    assert m.license_id == item["id"], (m.method, m.candidates)
    assert m.method.startswith("partial")
    assert 1 - cut - 0.08 <= m.coverage <= 1 - cut + 0.08
    assert not m.changes and not m.outside


def test_a_short_head_is_not_named(kb: Any) -> None:
    m = identify_text(MIT[:250], kb)
    assert m.license_id is None
    assert m.candidates[0][0] == "mit"


def test_a_text_whose_start_is_missing_is_not_partial(kb: Any) -> None:
    full = text("apache-2.0.txt")
    m = identify_text(full[len(full) // 2 :], kb)
    assert not m.method.startswith("partial")


# --------------------------------------------------------------------------- several licences


def test_two_licence_texts_are_an_and_expression_with_line_ranges(kb: Any) -> None:
    body = text("mpl-2.0.txt") + "\n\n---\n\n" + MIT
    m = identify_text(body, kb)
    assert m.expression == "MPL-2.0 AND MIT"
    assert [p.license_id for p in m.parts] == ["mpl-2.0", "mit"]
    lines = body.splitlines()
    mpl, mit = m.parts
    assert mpl.lines[0] == 1 and mit.lines[0] > mpl.lines[1]
    assert "Permission is hereby granted" in "\n".join(lines[mit.lines[0] - 1 : mit.lines[1]])
    assert not m.outside


def test_a_choice_between_two_texts_is_an_or_expression(kb: Any) -> None:
    body = (
        "This software is dual licensed under the Apache License 2.0 or the MIT license, "
        "at your option.\n\n" + text("apache-2.0.txt") + "\n\n" + MIT
    )
    m = identify_text(body, kb)
    assert m.expression == "Apache-2.0 OR MIT"
    assert [p.method.split("+")[0] for p in m.parts][-2:] == ["contained", "contained"]


def test_text_outside_every_licence_is_reported_with_its_lines(kb: Any) -> None:
    body = MIT + "\n\nThe Software may not be used to train other models.\n"
    m = identify_text(body, kb)
    assert m.license_id == "mit"
    last = len(body.rstrip("\n").splitlines())
    assert m.outside == ((last, last, 10),)


def test_a_title_and_a_pointer_are_not_outside_text(kb: Any) -> None:
    m = identify_text("The MIT License (MIT)\n\n" + MIT + "\nSee LICENSE for the full text.\n", kb)
    assert (m.license_id, m.outside) == ("mit", ())


# --------------------------------------------------------------------------- changes


def test_an_edited_sentence_is_a_change_with_both_sides_and_lines(kb: Any) -> None:
    edited = MIT.replace("without restriction", "for research only")
    m = identify_text(edited, kb)
    assert m.license_id == "mit"
    (c,) = m.changes
    assert (c.kind, c.text, c.reference_text) == (
        "changed",
        "for research only",
        "without restriction",
    )
    line = next(i for i, ln in enumerate(edited.splitlines(), 1) if "for research only" in ln)
    assert c.lines == (line, line)


def test_a_deleted_clause_is_a_removal_quoted_from_the_reference(kb: Any) -> None:
    l31 = text("llama3.1.txt")
    a, b = l31.find("2. Additional Commercial Terms"), l31.find("3. Disclaimer of Warranty")
    m = identify_text(l31[:a] + l31[b:], kb)
    assert m.license_id == "llama3.1"
    (c,) = m.changes
    assert c.kind == "removed" and "700 million monthly active users" in c.reference_text


def test_copyright_holder_year_and_placeholders_are_not_changes(kb: Any) -> None:
    apache = text("apache-2.0.txt")
    m = identify_text(
        "Copyright 2019-2025 The Example Authors. All rights reserved.\n\n" + apache, kb
    )
    assert (m.license_id, m.changes, m.outside) == ("apache-2.0", (), ())
    holder = text("bsd-3-clause.txt").replace("the copyright holder", "Example Org, Inc.")
    assert identify_text(holder, kb).changes == ()


def test_apache_without_its_appendix_has_removed_nothing(kb: Any) -> None:
    apache = text("apache-2.0.txt")
    end = apache.index("END OF TERMS AND CONDITIONS") + len("END OF TERMS AND CONDITIONS")
    m = identify_text(apache[:end], kb)
    assert (m.license_id, m.changes) == ("apache-2.0", ())
    assert not m.method.startswith("partial")


# --------------------------------------------------------------------------- variants


def test_bsd_4_clause_is_not_bsd_3_clause(kb: Any) -> None:
    bsd4 = "Copyright (c) 1995 Example University.\n\n" + text("bsd-4-clause.txt")
    m = identify_text(bsd4, kb)
    assert m.license_id == "bsd-4-clause", (m.method, m.candidates)
    assert identify_text(text("bsd-3-clause.txt"), kb).license_id == "bsd-3-clause"


def test_a_cut_gpl_3_is_not_confused_with_agpl_3(kb: Any) -> None:
    gpl = text("gpl-3.0.txt")
    for keep in (0.95, 0.9, 0.8):
        m = identify_text(gpl[: int(len(gpl) * keep)], kb)
        assert m.license_id == "gpl-3.0", (keep, m.method, m.candidates)
    agpl = text("agpl-3.0.txt")
    assert identify_text(agpl[: int(len(agpl) * 0.9)], kb).license_id == "agpl-3.0"


def _families() -> dict[str, list[Any]]:
    idx = _index(str(TEXTS))
    out: dict[str, list[Any]] = {}
    for ref in idx.refs:
        if ref.family:
            out.setdefault(ref.family, []).append(ref)
    return out


@pytest.mark.parametrize(
    "family", sorted(f for f, refs in _families().items() if len({r.id for r in refs}) > 1)
)
def test_each_reference_passes_its_familys_distinguishing_rules(family: str) -> None:
    """Every reference, scored level with every other member of its family, is still told
    apart by the phrases alone: no phrase of one member sits in another's text, no member
    excludes its own text."""
    refs = _families()[family]
    for ref in refs:
        words = list(ref.words)
        ranked = [_Scored(ref, 1.0, 1.0, 1.0, (0, len(words)))] + [
            _Scored(other, 1.0, 1.0, 1.0, (0, len(words))) for other in refs if other.id != ref.id
        ]
        chosen, _ = _tiebreak(ranked, words)
        assert chosen is not None and chosen.ref.id == ref.id, (ref.id, chosen and chosen.ref.id)
        # ... and in any order of the ranking.
        chosen, _ = _tiebreak(ranked[1:] + ranked[:1], words)
        assert chosen is not None and chosen.ref.id == ref.id, ref.id


# --------------------------------------------------------------------------- CLI


def test_cli_reads_a_folder_licence_names_first_and_standard_input(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# A project\n\nLicensed under the MIT License.\n")
    (tmp_path / "LICENSE").write_text(MIT)
    (tmp_path / "NOTICE").write_text("Licensed under the Apache License, Version 2.0\n")
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01\x02" * 10)
    (tmp_path / ".hidden").write_text(MIT)
    out = CliRunner().invoke(identify, ["--format", "json", str(tmp_path)])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)["files"]
    assert [Path(r["path"]).name for r in rows] == ["LICENSE", "NOTICE", "README.md"]
    assert [r["license_id"] for r in rows] == ["mit", "apache-2.0", "mit"]
    assert rows[0]["text_sha256"] and rows[1]["method"] == "notice"

    piped = CliRunner().invoke(identify, ["-"], input=MIT + "\nNo use by companies.\n")
    assert piped.exit_code == 0
    assert re.search(r"^-\s+mit\s", piped.stdout, re.M)
    assert "words outside any licence" in piped.stdout


def test_cli_table_shows_the_expression_and_the_changes(tmp_path: Path) -> None:
    both = tmp_path / "COPYING"
    both.write_text(text("mpl-2.0.txt") + "\n\n" + MIT.replace("without restriction", "freely"))
    out = CliRunner().invoke(identify, [str(both)])
    assert out.exit_code == 0
    assert "MPL-2.0 AND MIT" in out.stdout
    assert 'changed "freely"' in out.stdout


def test_terms_written_on_a_copyright_line_are_not_dropped(kb: Any) -> None:
    """Copyright lines are variable parts and are not compared, so terms put on one are
    reported as text outside the licence; a holder's name alone is not."""
    body = text("mit.txt")
    m = identify_text("Copyright (c) 2024 Acme Corp. Commercial use prohibited.\n\n" + body, kb)
    assert m.license_id == "mit" and m.outside and m.outside[0][:2] == (1, 1)
    m = identify_text("Copyright (c) 2024 Acme Research, Inc. All rights reserved.\n\n" + body, kb)
    assert m.outside == ()
