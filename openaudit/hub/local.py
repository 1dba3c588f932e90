"""Snapshots of models already on disk: a model folder, or the local Hugging Face cache.

A folder in the Hub's layout (what `hf download` leaves) is audited through the
same facts and rules as a Hub repo, so the metadata the Hub would serve is
rebuilt from the folder: `cardData` from the README front matter, `siblings`
from the files present. What a folder cannot tell (gating on the Hub, the
commit) stays absent, and the rules then say "unknown" rather than guess.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openaudit.cardtext import parse_front_matter
from openaudit.hub.client import MAX_FILE_BYTES, read_repo_file, wanted_files
from openaudit.model import ModelRef, Problem, RepoFile, Snapshot

_SKIP_DIRS = {".git", ".cache", "__pycache__"}


class LocalSourceError(Exception):
    """A path given on the command line is not a model folder."""


def is_model_folder(path: Path) -> bool:
    return path.is_dir() and any(
        (path / n).is_file() for n in ("README.md", "config.json", "adapter_config.json")
    )


def find_model_folders(path: Path, depth: int = 3) -> list[Path]:
    """A model folder itself, or the model folders below it (examples/models/<owner>/<name>)."""
    if not path.is_dir():
        raise LocalSourceError(f"{path}: not a folder")
    if is_model_folder(path):
        return [path]
    found: list[Path] = []
    if depth > 0:
        for child in sorted(p for p in path.iterdir() if p.is_dir() and p.name not in _SKIP_DIRS):
            found.extend(find_model_folders(child, depth - 1))
    return found


def folder_ref(path: Path, origin: str = "path") -> ModelRef:
    """Name a folder `owner/name` from its last two parts, as `hf download --local-dir` lays them out."""
    resolved = path.resolve()
    repo_id = f"{resolved.parent.name}/{resolved.name}" if resolved.parent.name else resolved.name
    return ModelRef(repo_id=repo_id, local_path=str(resolved), origin=origin)


def cache_refs(cache_dir: Path | None = None) -> tuple[list[ModelRef], list[Problem]]:
    """Every model in the local Hugging Face cache, at the revision `main` points to (else the newest)."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(cache_dir)
    except CacheNotFound as exc:
        return [], [Problem(str(cache_dir or "HF cache"), "not-found", str(exc).splitlines()[0])]
    refs: list[ModelRef] = []
    problems = [
        Problem(str(w.repo_path if hasattr(w, "repo_path") else w), "malformed", str(w))
        for w in info.warnings
    ]
    for repo in sorted(info.repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model" or not repo.revisions:
            continue
        revs = sorted(repo.revisions, key=lambda r: ("main" not in r.refs, -r.last_modified))
        rev = revs[0]
        refs.append(
            ModelRef(
                repo_id=repo.repo_id,
                revision=rev.commit_hash,
                local_path=str(rev.snapshot_path),
                origin="hf-cache",
            )
        )
    return refs, problems


def read_folder(ref: ModelRef, max_file_bytes: int = MAX_FILE_BYTES) -> Snapshot:
    """Build a Snapshot from a folder on disk."""
    if ref.local_path is None:
        raise LocalSourceError(f"{ref}: no folder")
    root = Path(ref.local_path)
    if not root.is_dir():
        raise LocalSourceError(f"{root}: not a folder")
    siblings: list[dict[str, Any]] = []
    problems: list[Problem] = []
    # A symlink is followed only inside the folder (for the HF cache: inside the repo's cache
    # folder, where snapshots link to blobs); one leading out is listed as not read.
    fence = (root.parent.parent if ref.origin == "hf-cache" else root).resolve()
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts and rel.parts[0] in _SKIP_DIRS:
            continue
        if p.is_symlink() and not p.resolve().is_relative_to(fence):
            problems.append(Problem(rel.as_posix(), "not-fetched", "a symlink out of the folder"))
            continue
        if p.is_file():
            siblings.append({"rfilename": rel.as_posix(), "size": p.stat().st_size})
    info: dict[str, Any] = {"id": ref.repo_id, "siblings": siblings}
    files: list[RepoFile] = []
    listed = {s["rfilename"] for s in siblings}
    readme = root / "README.md"
    card: dict[str, Any] | None = None
    if "README.md" in listed:
        card, problem = parse_front_matter(
            read_repo_file("README.md", readme, max_file_bytes).text or ""
        )
        if problem:
            problems.append(problem)
        if card is not None:
            info["cardData"] = card
    tags = [f"license:{lic}" for lic in _as_list((card or {}).get("license"))]
    if tags:
        info["tags"] = tags
    for name in wanted_files((s["rfilename"] for s in siblings), card):
        path = root / name
        if path.stat().st_size > max_file_bytes:
            problems.append(Problem(name, "too-large", f"{path.stat().st_size} bytes"))
            continue
        files.append(read_repo_file(name, path, max_file_bytes))
    commit = ref.revision if ref.origin == "hf-cache" else None
    if commit:
        info["sha"] = commit
    origin = "hf-cache" if ref.origin == "hf-cache" else "local"
    return Snapshot(
        ref=ref,
        commit=commit,
        info=info,
        files=tuple(files),
        problems=tuple(problems),
        origin=origin,
    )


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
