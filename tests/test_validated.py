"""The schema-check memo: a pass is remembered by content, a failure never is, and a memo that
cannot be used only costs the check again."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from openaudit.kb import KnowledgeBaseError
from openaudit.kb import loader as kb_loader
from openaudit.resources import data_dir
from openaudit.validated import check_once


class Boom(Exception):
    pass


def _counting(fail: bool = False) -> tuple[list[int], object]:
    calls: list[int] = []

    def check() -> None:
        calls.append(1)
        if fail:
            raise Boom("rejected")

    return calls, check


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENAUDIT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_pass_is_remembered_by_text_and_schema(cache: Path) -> None:
    calls, check = _counting()
    check_once("license.schema.json", "id: a\n", check)  # type: ignore[arg-type]
    check_once("license.schema.json", "id: a\n", check)  # type: ignore[arg-type]
    assert len(calls) == 1
    check_once("license.schema.json", "id: b\n", check)  # type: ignore[arg-type]
    assert len(calls) == 2  # another text
    check_once("rulepack.schema.json", "id: a\n", check)  # type: ignore[arg-type]
    assert len(calls) == 3  # the same text against another schema
    assert list((cache / "validated").iterdir())


def test_a_failure_is_never_remembered(cache: Path) -> None:
    calls, check = _counting(fail=True)
    for _ in range(2):
        with pytest.raises(Boom):
            check_once("license.schema.json", "id: bad\n", check)  # type: ignore[arg-type]
    assert len(calls) == 2


def test_garbage_in_the_memo_matches_nothing(cache: Path) -> None:
    calls, check = _counting()
    memo_dir = cache / "validated"
    memo_dir.mkdir(parents=True)
    for name in ("license.schema.json",):
        # Any memo file name: the content is what must not match.
        (memo_dir / "junk.txt").write_text("not a digest\n" + "0" * 64 + "\n")
        check_once(name, "id: c\n", check)  # type: ignore[arg-type]
    assert len(calls) == 1


def test_an_unwritable_cache_still_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("OPENAUDIT_CACHE_DIR", str(blocker))
    calls, check = _counting(fail=True)
    with pytest.raises(Boom):
        check_once("license.schema.json", "id: d\n", check)  # type: ignore[arg-type]
    calls, check = _counting()
    check_once("license.schema.json", "id: d\n", check)  # type: ignore[arg-type]
    assert len(calls) == 1


def test_an_entry_edited_after_passing_is_checked_again(cache: Path, tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    doc = yaml.safe_load((data_dir("licenses") / "mit.yml").read_text(encoding="utf-8"))
    doc.update(id="acme", spdx="LicenseRef-acme", name="Acme", aliases=[])
    path = folder / "acme.yml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    kb_loader._load.cache_clear()
    assert kb_loader.load_kb((folder,)).get("acme") is not None
    doc["commercial_use"] = "sometimes"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    kb_loader._load.cache_clear()
    with pytest.raises(KnowledgeBaseError, match=r"acme\.yml: commercial_use: 'sometimes'"):
        kb_loader.load_kb((folder,))
    kb_loader._load.cache_clear()


def test_code_version_changes_when_a_rule_pack_is_edited(tmp_path: Path) -> None:
    """The verdict memo's key reads each file's content: an edit of the same size within the
    file system's time resolution (the same mtime) still changes it."""
    import os

    from openaudit.judged import code_version

    pack = tmp_path / "pack.yml"
    pack.write_text("name: a\n")
    os.utime(pack, ns=(1_000_000_000, 1_000_000_000))
    code_version.cache_clear()
    before = code_version((pack,))
    pack.write_text("name: b\n")  # same size, same modification time
    os.utime(pack, ns=(1_000_000_000, 1_000_000_000))
    code_version.cache_clear()
    assert code_version((pack,)) != before
    code_version.cache_clear()
