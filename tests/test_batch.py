"""Batch audits: inputs, read-once, input order, streaming. Requests are counted by the fake Hub;
nothing here is timed (speed lives in benchmarks/batch.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from openaudit.cli import cli
from openaudit.model import Bundle, ModelRef
from openaudit.pipeline import READ_AHEAD, AuditOptions, Run, audit_iter
from openaudit.sources import SourceError, parse_ref, refs_from_file
from tests.fakehub import FakeHub
from tests.helpers import audit_json, run_cli

BASE_README = "---\nlicense: apache-2.0\n---\n# Base\n"


def _family(hub: FakeHub, n: int, link: str | None = None) -> list[str]:
    """A base and `n` fine-tunes of it, each naming it (and `link`, when given)."""
    hub.add_repo(
        {
            "id": "batch-org/base",
            "cardData": {"license": "apache-2.0"},
            "tags": ["license:apache-2.0"],
            "siblings": [{"rfilename": "README.md"}, {"rfilename": "model.safetensors"}],
        },
        {"README.md": BASE_README},
    )
    ids = []
    for i in range(n):
        card = {"license": "apache-2.0", "base_model": "batch-org/base"}
        if link:
            card = {
                "license": "other",
                "license_name": "t",
                "license_link": link,
                "base_model": "batch-org/base",
            }
        front = "\n".join(f"{k}: {v}" for k, v in card.items())
        hub.add_repo(
            {
                "id": f"batch-org/tune-{i:02d}",
                "cardData": card,
                "tags": ["base_model:batch-org/base"],
                "siblings": [{"rfilename": "README.md"}, {"rfilename": "model.safetensors"}],
            },
            {"README.md": f"---\n{front}\n---\n# Tune {i}\n"},
        )
        ids.append(f"batch-org/tune-{i:02d}")
    return ids


def test_a_shared_base_is_read_once_and_results_keep_input_order(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    ids = _family(fixture_hub, 8)
    order = ids[::-1]  # not alphabetical: the report must follow the input
    run = audit_json(fixture_hub.url, tmp_path, *order, extra=("--jobs", "8"))
    assert run.code == 0, run.stderr
    assert [m["id"] for m in run.json()["models"]] == order
    assert fixture_hub.count("/api/models/batch-org/base") == 1
    for i in ids:
        assert fixture_hub.count(f"/api/models/{i}", method="GET") == 1


def test_duplicates_are_audited_once_in_first_place(fixture_hub: FakeHub, tmp_path: Path) -> None:
    ids = _family(fixture_hub, 2)
    run = audit_json(
        fixture_hub.url, tmp_path, ids[1], ids[0], ids[1], f"https://huggingface.co/{ids[0]}"
    )
    assert [m["id"] for m in run.json()["models"]] == [ids[1], ids[0]]
    assert fixture_hub.count(f"/api/models/{ids[1]}") == 1


def test_a_linked_licence_is_read_once_per_run(fixture_hub: FakeHub, tmp_path: Path) -> None:
    link = f"{fixture_hub.url}/batch-org/base/resolve/main/README.md"
    ids = _family(fixture_hub, 5, link=link)
    run = audit_json(fixture_hub.url, tmp_path, *ids)
    assert run.code == 0, run.stderr
    assert fixture_hub.count("/batch-org/base/resolve/main/README.md") == 1


def test_verdicts_stream_with_a_bounded_window(fixture_hub: FakeHub, tmp_path: Path) -> None:
    ahead = READ_AHEAD * 2
    ids = _family(fixture_hub, ahead + 6)
    options = AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path, workers=2)
    with Run(options) as run:
        stream = run.verdicts([ModelRef(i) for i in ids])
        first = next(stream)
        assert first.id == ids[0]
        # jobs=2 reads at most READ_AHEAD x 2 models ahead: the last ones are not asked yet.
        asked = [i for i in ids if fixture_hub.count(f"/api/models/{i}")]
        assert ids[0] in asked and len(asked) <= ahead + 1
        assert fixture_hub.count(f"/api/models/{ids[-1]}") == 0
        rest = [v.id for v in stream]
    assert [first.id, *rest] == ids


def test_audit_iter_is_in_input_order_and_names_failures(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    ids = _family(fixture_hub, 3)
    refs = [ModelRef(ids[2]), ModelRef("batch-org/missing"), ModelRef(ids[0])]
    got = list(audit_iter(refs, AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path)))
    assert [v.id for v in got] == [ids[2], "batch-org/missing", ids[0]]
    assert [v.audited for v in got] == [True, False, True]


def test_from_file_strips_a_bom_reads_urls_and_reports_every_bad_line(tmp_path: Path) -> None:
    good = tmp_path / "ok.txt"
    good.write_bytes(
        "\ufeffacme/one\n# comment\nhttps://huggingface.co/acme/two/tree/v1.0\nhf.co/acme/three\n".encode()
    )
    refs = refs_from_file(good)
    assert [(r.repo_id, r.revision) for r in refs] == [
        ("acme/one", None),
        ("acme/two", "v1.0"),
        ("acme/three", None),
    ]
    assert refs[1].origin == f"{good}:3"
    bad = tmp_path / "bad.txt"
    bad.write_text("acme/one\nnot an id\nacme/two\n../x\n", encoding="utf-8")
    with pytest.raises(SourceError) as err:
        refs_from_file(bad)
    lines = str(err.value).splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{bad}:2", f"{bad}:4"]


def test_cli_reports_every_bad_line_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("x y\nacme/ok\nz z\n", encoding="utf-8")
    run = run_cli("audit", "--from-file", str(bad), "--offline", "--cache-dir", str(tmp_path))
    assert run.code == 2
    assert (
        run.stderr.count("openaudit: ") == 2
        and f"{bad}:1" in run.stderr
        and f"{bad}:3" in run.stderr
    )


def test_ids_from_stdin(fixture_hub: FakeHub, tmp_path: Path) -> None:
    ids = _family(fixture_hub, 2)
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "--from-file",
            "-",
            "--format",
            "json",
            "--endpoint",
            fixture_hub.url,
            "--cache-dir",
            str(tmp_path),
            "--workers",
            "2",
        ],
        input="\ufeff" + "\n".join([ids[1], ids[0], ids[1]]) + "\n",
    )
    assert result.exit_code == 0, result.stderr
    assert [m["id"] for m in json.loads(result.stdout)["models"]] == [ids[1], ids[0]]


@pytest.mark.parametrize(
    ("text", "repo", "rev"),
    [
        ("https://huggingface.co/org/name/tree/main", "org/name", "main"),
        ("https://huggingface.co/org/name/blob/0123abc/LICENSE", "org/name", "0123abc"),
        ("https://huggingface.co/org/name/tree/refs%2Fpr%2F1", "org/name", "refs/pr/1"),
        ("hf.co/org/name", "org/name", None),
        ("https://www.huggingface.co/org/name/discussions/2?x=1#top", "org/name", None),
    ],
)
def test_browser_urls_are_ids(text: str, repo: str, rev: str | None) -> None:
    ref = parse_ref(text)
    assert (ref.repo_id, ref.revision, ref.kind) == (repo, rev, "model")


def test_author_lists_the_models_of_an_organisation(fixture_hub: FakeHub, tmp_path: Path) -> None:
    ids = _family(fixture_hub, 3)
    run = audit_json(fixture_hub.url, tmp_path, extra=("--author", "batch-org"))
    assert run.code == 0, run.stderr
    assert sorted(m["id"] for m in run.json()["models"]) == sorted([*ids, "batch-org/base"])
    assert fixture_hub.count("/api/models", method="GET") >= 1
    search = audit_json(fixture_hub.url, tmp_path, extra=("--search", "tune-01"))
    assert [m["id"] for m in search.json()["models"]] == [ids[1]]
    none = audit_json(fixture_hub.url, tmp_path, extra=("--author", "no-such-org"))
    assert none.code == 2 and "--author no-such-org" in none.stderr


def test_files_are_read_with_one_get_at_the_pinned_commit(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    ids = _family(fixture_hub, 1)
    run = audit_json(fixture_hub.url, tmp_path, ids[0])
    assert run.code == 0, run.stderr
    assert fixture_hub.count(method="HEAD") == 0
    gets = [p for p in fixture_hub.paths(method="GET") if "/resolve/" in p]
    # README.md of the tune and of its base, each once, at a commit (not at "main").
    assert sorted(gets) == sorted(set(gets)) and len(gets) == 2
    assert all("/resolve/main/" not in p for p in gets)


def test_each_licence_text_is_identified_once_and_remembered(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    texts = Path(__file__).resolve().parents[1] / "licenses" / "texts"
    licence = (texts / "cc-by-nc-4.0.txt").read_text(encoding="utf-8")
    ids = []
    for i in range(4):
        fixture_hub.add_repo(
            {
                "id": f"batch-org/nc-{i}",
                "cardData": {"license": "cc-by-nc-4.0"},
                "siblings": [{"rfilename": "README.md"}, {"rfilename": "LICENSE"}],
            },
            {"README.md": f"---\nlicense: cc-by-nc-4.0\n---\n# NC {i}\n", "LICENSE": licence},
        )
        ids.append(f"batch-org/nc-{i}")
    options = AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path, workers=2)
    with Run(options) as run:
        cold = [v for v in run.verdicts([ModelRef(i) for i in ids])]
        assert run.identify.computed == 1
    with Run(options) as run:
        warm = [v for v in run.verdicts([ModelRef(i) for i in ids])]
        assert run.identify.computed == 0  # from the store, by hash and knowledge-base version
    assert [v.licence_ids for v in warm] == [v.licence_ids for v in cold] == [("cc-by-nc-4.0",)] * 4
    with Run(AuditOptions(endpoint=fixture_hub.url, use_store=False)) as run:
        list(run.verdicts([ModelRef(ids[0])]))
        assert run.identify.computed == 1


def test_libyaml_reads_plain_cards_as_the_bounded_loader_does() -> None:
    import yaml

    from openaudit import safe

    fixtures = Path(__file__).resolve().parent / "fixtures" / "hub"
    cards = [p.read_text(encoding="utf-8") for p in sorted(fixtures.rglob("README.md"))]
    fronts = [c.split("---\n")[1] for c in cards if c.startswith("---\n") and c.count("---\n") >= 2]
    assert len(fronts) >= 5
    plain = [f for f in fronts if safe._plain(f)]
    assert plain and hasattr(yaml, "CSafeLoader")
    for text in plain:
        try:
            bounded = safe.clean_tree(safe._BoundedLoader(text).get_single_data())[0]
        except yaml.YAMLError:
            continue
        assert safe.load_yaml(text) == bounded
    # Anchors and aliases, deep flow nesting and deep indentation take the bounded path.
    assert not safe._plain("a: &x [1]\nb: *x\n")
    assert not safe._plain("a: " + "[" * 60 + "]" * 60)
    assert not safe._plain("a:\n" + " " * 60 + "b: 1\n")
    bomb = "a0: &a0 [x, x]\n" + "".join(
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, 40)
    )
    with pytest.raises(safe.Malformed):
        safe.load_yaml(bomb)


def test_a_bundle_is_stored_in_one_transaction(fixture_hub: FakeHub, tmp_path: Path) -> None:
    ids = _family(fixture_hub, 3)
    options = AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path, workers=2)
    with Run(options) as run:
        assert run.store is not None
        statements: list[str] = []
        run.store._conn.set_trace_callback(statements.append)
        verdicts = list(run.verdicts([ModelRef(i) for i in ids]))
    assert all(v.audited for v in verdicts)
    inserts = [s for s in statements if s.startswith("INSERT")]
    commits = [s for s in statements if s.upper().startswith("COMMIT")]
    # Three bundles of several rows (snapshots, refs, links, verdicts): one commit per bundle
    # on the fetching threads, one for the verdicts judged.
    assert len(inserts) >= 12
    assert 1 <= len(commits) <= len(ids) + 1, statements


def _gated(hub: FakeHub) -> str:
    hub.add_repo(
        {
            "id": "batch-org/gated",
            "gated": "auto",
            "cardData": {"license": "llama3.1"},
            "tags": ["license:llama3.1"],
            "siblings": [
                {"rfilename": "README.md"},
                {"rfilename": "LICENSE"},
                {"rfilename": "model.safetensors"},
            ],
        },
        {"README.md": "---\nlicense: llama3.1\n---\n# Gated\n", "LICENSE": "terms\n"},
    )
    return "batch-org/gated"


def test_a_pinned_gated_reaudit_with_the_same_credentials_sends_no_request(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    from tests.fakehub import ACCEPTED_TOKEN

    gated = _gated(fixture_hub)
    first = audit_json(fixture_hub.url, tmp_path, gated).json()["models"][0]
    assert {e["reason"] for e in first["errors"]} == {"gated-no-token"}
    pinned = f"{gated}@{first['revision']}"
    fixture_hub.reset()
    _gated(fixture_hub)
    again = audit_json(fixture_hub.url, tmp_path, pinned).json()["models"][0]
    assert fixture_hub.count() == 0
    assert again["errors"] == first["errors"] and again["licence"] == first["licence"]
    # Another reader (a token that accepted the terms) is not answered from that refusal.
    with_token = run_cli(
        "audit",
        pinned,
        "--format",
        "json",
        "--endpoint",
        fixture_hub.url,
        "--cache-dir",
        str(tmp_path),
        env={"HF_TOKEN": ACCEPTED_TOKEN},
    )
    assert with_token.code == 0, with_token.stderr
    assert fixture_hub.count("/batch-org/gated/resolve/") >= 1
    assert json.loads(with_token.stdout)["models"][0]["errors"] == []
    assert ACCEPTED_TOKEN not in (tmp_path / "evidence.sqlite3").read_bytes().decode("latin-1")


def test_unchanged_evidence_is_not_judged_again(fixture_hub: FakeHub, tmp_path: Path) -> None:
    import pickle
    import zlib

    from openaudit.report import render

    ids = _family(fixture_hub, 3)
    online = AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path, workers=2)
    with Run(online) as run:
        cold = run.scorecard(run.verdicts([ModelRef(i) for i in ids]))
        assert run.recalled == 0
    offline = AuditOptions(cache_dir=tmp_path, offline=True)
    with Run(offline) as run:
        again = run.scorecard(run.verdicts([ModelRef(i) for i in ids]))
        # Offline the root comes from the store: the same evidence as the Hub's, recalled.
        first_offline = run.recalled
    with Run(offline) as run:
        third = run.scorecard(run.verdicts([ModelRef(i) for i in ids]))
        assert run.recalled == len(ids)
    assert first_offline == len(ids)
    assert json.loads(render(again, "json"))["models"] == json.loads(render(cold, "json"))["models"]
    assert (
        json.loads(render(third, "json"))["models"] == json.loads(render(again, "json"))["models"]
    )
    assert [m.licence_ids for m in cold.models] == [m.licence_ids for m in third.models]

    # A row that is not a verdict (tampered, or from another version) is judged again, never run.
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("pwned",))

    assert run.store is not None
    from openaudit.hub.store import Store

    store = Store(tmp_path)
    store._conn.execute("UPDATE verdicts SET data=?", (zlib.compress(pickle.dumps(Evil())),))
    store._conn.commit()
    store.close()
    with Run(offline) as run:
        fourth = run.scorecard(run.verdicts([ModelRef(i) for i in ids]))
        assert run.recalled == 0
    assert (
        json.loads(render(fourth, "json"))["models"] == json.loads(render(third, "json"))["models"]
    )


def test_a_linked_text_read_from_the_store_copy_is_the_same_evidence(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    """Offline, a licence link is the stored copy of the text a warm run fetched: same hash,
    same evidence, so its verdict is recalled, and the report is the same bytes."""
    from openaudit.report import render

    link = f"{fixture_hub.url}/batch-org/base/resolve/main/README.md"
    ids = _family(fixture_hub, 3, link=link)
    refs = [ModelRef(i) for i in ids]
    online = AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path, workers=2)
    with Run(online) as run:
        list(run.verdicts(refs))  # cold: the roots come from the Hub
    with Run(online) as run:
        warm = run.scorecard(run.verdicts(refs))
        assert fixture_hub.count("/batch-org/base/resolve/main/README.md") == 2  # fetched again
    with Run(AuditOptions(cache_dir=tmp_path, offline=True)) as run:
        offline = run.scorecard(run.verdicts(refs))
        assert run.recalled == len(ids)
    models = json.loads(render(offline, "json"))["models"]
    assert models == json.loads(render(warm, "json"))["models"]
    texts = [t for m in offline.models for t in m.facts.value("licence.files") or []]
    assert {t["path"] for t in texts if t["source"] == "url"} == {link}

    # A text that changed behind the link is other evidence: judged again, the change shown.
    fixture_hub.add_repo(
        {"id": "batch-org/base", "cardData": {"license": "apache-2.0"}, "siblings": []},
        {"README.md": BASE_README + "\nAmended terms.\n"},
    )
    with Run(online) as run:
        changed = run.scorecard(run.verdicts(refs[:1]))
        assert run.recalled == 0
    texts = [t for t in changed.models[0].facts.value("licence.files") if t["source"] == "url"]
    assert texts[0]["changed_from"] is not None


def test_progress_is_hidden_off_a_terminal_and_verbose_names_each_model(
    fixture_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from openaudit.cli.progress import Progress

    ids = _family(fixture_hub, 3)
    plain = audit_json(fixture_hub.url, tmp_path, *ids)
    assert plain.code == 0 and plain.stderr == ""  # not a terminal: no bar
    loud = audit_json(fixture_hub.url, tmp_path, *ids, extra=("-v",))
    assert [line.split(": ")[1].split("] ")[1] for line in loud.stderr.splitlines()] == ids
    quiet = audit_json(fixture_hub.url, tmp_path, *ids, extra=("-q", "-v"))
    assert quiet.stderr == ""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Tty()
    monkeypatch.setattr("sys.stderr", err)
    options = AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path, workers=2)
    with (
        Run(options) as run,
        Progress(len(ids), quiet=False, verbose=False, in_flight=lambda: run.in_flight) as bar,
    ):
        list(run.verdicts([ModelRef(i) for i in ids], progress=bar))
        line = str(bar._bar)
    assert "0/3" in err.getvalue()  # drawn on the (fake) terminal
    assert "3/3" in line and "in_flight=" in line and "failed=0" in line


def test_a_listing_is_refused_offline(tmp_path: Path) -> None:
    run = run_cli("audit", "--author", "acme", "--offline", "--cache-dir", str(tmp_path))
    assert run.code == 2 and "--offline" in run.stderr and run.stderr.count("\n") == 1


def test_a_report_that_fails_midway_still_stores_what_was_judged(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    import sqlite3

    ids = _family(fixture_hub, 4)
    options = AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path, workers=2)
    with Run(options) as run:
        stream = run.verdicts([ModelRef(i) for i in ids])
        first = next(stream)  # the consumer stops here (its output broke, say)
    # Closing the run closed the stream first: the verdict judged was written, the store is shut.
    conn = sqlite3.connect(tmp_path / "evidence.sqlite3")
    assert conn.execute("SELECT count(*) FROM verdicts").fetchone()[0] >= 1
    conn.close()
    assert first.audited and next(stream, None) is None


def test_a_line_orjson_refuses_is_written_by_the_standard_encoder() -> None:
    from openaudit.report.json_format import encode_line

    for value in ({"n": 2**70}, {1: "int key"}, {"ok": ["é", "\u2028", None, 1.5]}):
        line = encode_line(value)
        assert "\n" not in line
        assert json.loads(line) == json.loads(json.dumps(value))


def test_the_evidence_key_names_the_text_not_how_it_was_read() -> None:
    from openaudit.judged import evidence_key
    from openaudit.model import LinkedText, Snapshot

    root = Snapshot(ref=ModelRef("o/m"), commit="a" * 40, info={"id": "o/m"}, origin="store")

    def key(**text: str | None) -> str | None:
        linked = LinkedText("https://x/terms", "t", text.get("sha", "1"), "then")
        linked = replace(linked, **{k: v for k, v in text.items() if k != "sha"})
        bundle = Bundle(ref=ModelRef("o/m"), root=root, linked={"https://x/terms": linked})
        return evidence_key(bundle, "v1")

    assert key() == key(origin="store") == key(fetched_at="now")
    assert key(sha="2") != key() and key(previous_sha256="0") != key()
    # Keys orjson cannot order (and a lone surrogate it cannot write) still give a key or none,
    # never an error.
    odd = Snapshot(ref=ModelRef("o/m"), commit="a" * 40, info={"id": "\ud800"}, origin="store")
    assert evidence_key(Bundle(ref=ModelRef("o/m"), root=odd), "v1") is not None


def test_an_offline_batch_is_judged_on_the_calling_thread(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    import threading

    ids = _family(fixture_hub, 4)
    with Run(AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path, workers=4)) as run:
        list(run.verdicts([ModelRef(i) for i in ids]))
    with Run(AuditOptions(cache_dir=tmp_path, offline=True, workers=4)) as run:
        names = []
        for v in run.verdicts([ModelRef(i) for i in ids]):
            assert v.audited
            names += [t.name for t in threading.enumerate()]
    assert not any(n.startswith("openaudit-fetch") for n in names)


def test_a_pinned_reaudit_from_the_store_is_read_on_the_calling_thread(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    """Online, a model whose pinned evidence is all stored is collected by the caller itself;
    one that needs a request (not stored, or a link not read yet this run) goes to a thread,
    and the results still come in input order, the same as a cold audit's."""
    import threading

    from openaudit.hub.store import Store

    ids = _family(fixture_hub, 4)
    options = AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path, workers=4)
    with Run(options) as run:
        cold = [v for v in run.verdicts([ModelRef(i) for i in ids])]
    store = Store(tmp_path)
    pinned = [ModelRef(i, revision=store.resolve("model", i, "main")) for i in ids]
    store.close()
    fixture_hub.reset()
    with Run(options) as run:
        names: list[str] = []
        again = []
        for v in run.verdicts(pinned):
            again.append(v)
            names += [t.name for t in threading.enumerate()]
    assert fixture_hub.count() == 0
    assert not any(n.startswith("openaudit-fetch") for n in names)
    assert [(v.id, v.licence_ids, v.dimensions) for v in again] == [
        (v.id, v.licence_ids, v.dimensions) for v in cold
    ]

    # A new model in the batch is read by a thread; the stored ones around it are not asked.
    more = _family(fixture_hub, 6)[4:]
    fixture_hub.reset()
    with Run(options) as run:
        mixed = [v.id for v in run.verdicts([*pinned[:2], ModelRef(more[0]), *pinned[2:]])]
    assert mixed == [*ids[:2], more[0], *ids[2:]]
    assert fixture_hub.count(f"/api/models/{more[0]}") >= 1
    assert all(fixture_hub.count(f"/api/models/{i}") == 0 for i in ids)


def test_a_waiter_computes_what_its_owner_abandoned() -> None:
    import threading

    from openaudit.hub.memo import Abandoned, Once

    memo: Once[str, int] = Once()
    started, release = threading.Event(), threading.Event()

    def give_up() -> int:
        started.set()
        release.wait(5)
        raise Abandoned("not here")

    answers: list[int] = []

    def own() -> None:
        with pytest.raises(Abandoned):
            memo.get("k", give_up)

    owner = threading.Thread(target=own)
    owner.start()
    started.wait(5)
    assert memo.busy("k") and not memo.answered("k")
    waiter = threading.Thread(target=lambda: answers.append(memo.get("k", lambda: 7)))
    waiter.start()
    for _ in range(500):  # until the waiter waits on the owner's answer
        if memo.hits:
            break
        threading.Event().wait(0.01)
    assert memo.hits == 1
    release.set()
    owner.join(5)
    waiter.join(5)
    assert answers == [7]
    assert memo.answered("k") and memo.get("k", lambda: 8) == 7


def test_a_warm_batch_asks_a_namespace_listing_for_its_stored_models(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    """Re-audited at `main`, stored models of one namespace learn their commit from one page of
    its listing; a model whose `main` moved is read again, and its new evidence judged."""
    ids = _family(fixture_hub, 4)
    refs = [ModelRef(i) for i in ids]
    options = AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path, workers=4)
    with Run(options) as run:
        cold = [(v.id, v.licence_ids) for v in run.verdicts(refs)]
    assert "/api/models" not in fixture_hub.paths()  # nothing stored yet: nothing listed

    moved = ids[1]
    fixture_hub.add_repo(
        {"id": moved, "cardData": {"license": "mit"}, "tags": ["license:mit"]},
        {"README.md": "---\nlicense: mit\n---\n# Moved on\n"},
    )
    before = {i: fixture_hub.count(f"/api/models/{i}") for i in ids}
    with Run(options) as run:
        warm = [(v.id, v.licence_ids) for v in run.verdicts(refs)]
    assert fixture_hub.paths().count("/api/models") == 1  # the namespace's listing
    assert [i for i in ids if fixture_hub.count(f"/api/models/{i}") > before[i]] == [moved]
    assert warm == [(i, ("mit",) if i == moved else lic) for i, lic in cold]


def test_a_failed_or_foreign_listing_costs_nothing_but_its_request(
    fixture_hub: FakeHub, tmp_path: Path
) -> None:
    from openaudit.hub.client import _next_page

    ids = _family(fixture_hub, 3)
    options = AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path, workers=4)
    with Run(options) as run:
        cold = [(v.id, v.licence_ids, v.errors) for v in run.verdicts([ModelRef(i) for i in ids])]
    fixture_hub.fail("/api/models", status=404, times=None, exact=True)
    with Run(options) as run:
        again = [(v.id, v.licence_ids, v.errors) for v in run.verdicts([ModelRef(i) for i in ids])]
    assert again == cold  # each model asked for itself; no error is the listing's
    assert fixture_hub.paths().count("/api/models") == 1
    assert all(fixture_hub.count(f"/api/models/{i}") == 2 for i in ids)

    # A next page is followed on the Hub's endpoint only: the token goes nowhere else.
    hub = "http://127.0.0.1:5000"
    assert _next_page({"Link": f'<{hub}/api/models?cursor=2>; rel="next"'}, hub)
    for elsewhere in ("http://127.0.0.2:5000/api/models", "http://127.0.0.1:50001/api"):
        assert _next_page({"link": f'<{elsewhere}>; rel="next"'}, hub) is None


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"id": "batch-org/tune-00"}',
        b'[{"id": "batch-org/tune-00", "sha": "' + b"0" * 40 + b'"}, {"id": "batch-org/tune-01", '
        b'"sha": 5}, "junk", {"id": "batch-org/tune-02"}, [], {"id": ["batch-org/tune-02"]}]',
    ],
)
def test_a_listing_that_lies_or_breaks_only_sends_each_model_to_ask_itself(
    fixture_hub: FakeHub, tmp_path: Path, body: bytes
) -> None:
    """A listing is believed only where its commit is one already stored for that model: a
    commit the store does not hold, a wrong type or an unreadable page changes no verdict."""
    ids = _family(fixture_hub, 3)
    options = AuditOptions(endpoint=fixture_hub.url, cache_dir=tmp_path, workers=4)
    with Run(options) as run:
        cold = [
            (v.id, v.licence_ids, v.dimensions, v.errors)
            for v in run.verdicts([ModelRef(i) for i in ids])
        ]
    fixture_hub.fail("/api/models", status=200, body=body, times=None, exact=True)
    with Run(options) as run:
        again = [
            (v.id, v.licence_ids, v.dimensions, v.errors)
            for v in run.verdicts([ModelRef(i) for i in ids])
        ]
    assert again == cold
    assert fixture_hub.paths().count("/api/models") == 1
    assert all(fixture_hub.count(f"/api/models/{i}") == 2 for i in ids)


def test_a_paged_listing_is_followed_within_its_page_budget(fixture_hub: FakeHub) -> None:
    from openaudit.hub.client import HubClient

    ids = _family(fixture_hub, 3)
    fixture_hub.page_size = 1
    client = HubClient(fixture_hub.url)
    found = client.listed_commits("batch-org", set(ids), max_pages=10)
    assert set(found) == set(ids) and all(len(sha) == 40 for sha in found.values())
    # One page per model here (the base is listed too); it stops once every id is found.
    assert fixture_hub.paths().count("/api/models") <= len(ids) + 1
    before = fixture_hub.paths().count("/api/models")
    assert len(client.listed_commits("batch-org", set(ids), max_pages=2)) < len(ids)
    assert fixture_hub.paths().count("/api/models") - before == 2
