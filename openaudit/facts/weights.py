"""Weight facts: which weight files the repo has, in which formats, and whether it is adapter-only."""

from __future__ import annotations

from collections.abc import Iterator

from openaudit.facts.context import Context
from openaudit.model import Evidence, Fact

#: File extension -> format name. Pickle-based formats can run code when loaded.
FORMATS: dict[str, str] = {
    ".safetensors": "safetensors",
    ".bin": "pytorch-bin",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".ckpt": "checkpoint",
    ".gguf": "gguf",
    ".onnx": "onnx",
    ".h5": "keras-h5",
    ".msgpack": "flax-msgpack",
    ".pkl": "pickle",
}
PICKLE_FORMATS = frozenset({"pytorch-bin", "pytorch", "checkpoint", "pickle"})
_NOT_WEIGHTS = ("training_args.bin", "optimizer.pt", "scheduler.pt", "rng_state")


def extract(ctx: Context) -> Iterator[Fact]:
    snap = ctx.bundle.root
    if snap is None:
        return
    names = snap.file_names
    if snap.info.get("siblings") is None:
        # Files read one by one (the card) say nothing about the weights that may sit beside them.
        listing = Evidence("api", "siblings", "no file list in the Hub's answer", snap.url())
        yield Fact(
            "weights.files_known", False, (listing,), note="the repo's file list was not available"
        )
        return
    weights = [
        n for n in names if _format(n) and not any(x in n.rsplit("/", 1)[-1] for x in _NOT_WEIGHTS)
    ]
    formats = sorted({f for f in (_format(n) for n in weights) if f})
    listing = Evidence(
        source="api" if snap.origin != "local" else "file",
        locator="siblings" if snap.origin != "local" else "folder listing",
        excerpt=", ".join(weights[:6]) + (" …" if len(weights) > 6 else "")
        if weights
        else "no weight files",
        url=snap.url(),
    )
    yield Fact("weights.files_known", True)
    yield Fact("weights.files", weights, (listing,))
    yield Fact("weights.present", bool(weights), (listing,))
    yield Fact("weights.formats", formats, (listing,))
    pickled = [n for n in weights if _format(n) in PICKLE_FORMATS]
    yield Fact("weights.pickle_files", pickled, (listing,) if pickled else ())
    base_names = [n.rsplit("/", 1)[-1] for n in weights]
    # PEFT saves only the adapter (adapter_model.*): the base weights must come from elsewhere.
    adapter_only = bool(weights) and all(b.startswith("adapter_model") for b in base_names)
    yield Fact("weights.adapter_only", adapter_only, (listing,))
    yield Fact("weights.quantized_gguf", "gguf" in formats, (listing,))


def _format(name: str) -> str | None:
    lower = name.lower()
    for ext, fmt in FORMATS.items():
        if lower.endswith(ext):
            return fmt
    return None
