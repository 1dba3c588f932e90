"""Model references in a codebase: Python (through its AST), notebooks, and manifests.

A pre-merge gate is only as good as what it finds, so discovery is conservative in one
direction only: every call that may load a model is reported, and what cannot be read
statically (an f-string, a variable from input, the environment) is kept as `unresolved`
with its location and the reason, never dropped. Which calls load models is data
(`CALLS`), not a chain of `if`s, so a new library is one more line.
"""

from __future__ import annotations

import ast
import json
import os
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from openaudit.model import CodeRef, Problem

#: A policy file next to the code it governs (the nearest one up the tree applies).
POLICY_FILE = "openaudit-policy.yaml"
MANIFEST_FILE = "openaudit.toml"
#: Files larger than this are reported, not parsed: generated code is not where models are named.
MAX_FILE_BYTES = 2_000_000
#: Folders never scanned: version control, virtual environments, dependencies, caches.
SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache",
     ".ruff_cache", ".pytest_cache", "site-packages", ".venv", "venv", ".ipynb_checkpoints"}
)  # fmt: skip


@dataclass(frozen=True)
class CallSpec:
    """Where a call keeps its model id: a positional index and keyword names."""

    #: The called name: the last attribute (`from_pretrained`), or `Class.method` to narrow.
    name: str
    position: int | None
    keywords: tuple[str, ...]
    #: The id must carry this prefix (timm, open_clip): without it the name is not a Hub repo.
    prefix: tuple[str, ...] = ()


#: First match wins: the narrow `Class.method` entries come before the generic ones.
CALLS: tuple[CallSpec, ...] = (
    CallSpec("PeftModel.from_pretrained", 1, ("model_id",)),
    CallSpec("PeftMixedModel.from_pretrained", 1, ("model_id",)),
    CallSpec("Llama.from_pretrained", 0, ("repo_id",)),
    CallSpec(
        "from_pretrained",
        0,
        ("pretrained_model_name_or_path", "pretrained_model_or_path", "model_id", "repo_id"),
    ),
    CallSpec("pipeline", 1, ("model",)),
    CallSpec("hf_hub_download", 0, ("repo_id",)),
    CallSpec("snapshot_download", 0, ("repo_id",)),
    CallSpec("model_info", 0, ("repo_id",)),
    CallSpec("SentenceTransformer", 0, ("model_name_or_path",)),
    CallSpec("CrossEncoder", 0, ("model_name_or_path", "model_name")),
    CallSpec("LLM", 0, ("model",)),
    CallSpec("create_model", 0, ("model_name",), prefix=("hf-hub:", "hf_hub:")),
    CallSpec("create_model_and_transforms", 0, ("model_name",), prefix=("hf-hub:",)),
    CallSpec("create_model_from_pretrained", 0, ("model_name",), prefix=("hf-hub:",)),
    CallSpec("get_tokenizer", 0, ("model_name",), prefix=("hf-hub:",)),
)
#: Cheap text test before parsing: a file that neither calls one of these names (a call's
#: name ends with it: `make_pipeline(` too) nor imports one under another name cannot hold a
#: reference, so it is never parsed.
_PLAIN = tuple(sorted({c.name.rsplit(".", 1)[-1] for c in CALLS}))
_NAMES = "|".join(re.escape(n) for n in _PLAIN)
_CALL = re.compile(rf"(?:{_NAMES})\s*\(")
_ALIAS = re.compile(rf"\bimport\b[^\n]*\b(?:{_NAMES})\s+as\b")


def may_reference(text: str) -> bool:
    """False only when the text can hold no reference; cheapest tests first."""
    if not any(n in text for n in _PLAIN):
        return False
    return _CALL.search(text) is not None or (" as " in text and _ALIAS.search(text) is not None)


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(?:/[A-Za-z0-9][\w.-]*)?$")
_HUB_URL = re.compile(r"^https?://(?:www\.)?huggingface\.co/")
#: First segments that name a folder of the project rather than a Hub owner.
_LOCAL_WORDS = frozenset(
    {"models", "model", "checkpoints", "checkpoint", "ckpt", "outputs", "output", "weights",
     "artifacts", "saved_models", "runs", "data", "local", "tmp", "cache", "exports"}
)  # fmt: skip


@dataclass(frozen=True)
class Scan:
    """What one scan found: references in file order, what could not be read, policy files."""

    refs: tuple[CodeRef, ...]
    problems: tuple[Problem, ...] = ()
    files: int = 0
    #: Every `openaudit-policy.yaml` met, as paths (the nearest one up the tree applies).
    policy_files: tuple[str, ...] = ()


def scan(paths: Sequence[Path]) -> Scan:
    """Every model reference under `paths` (folders or files), honouring `.gitignore`."""
    refs: list[CodeRef] = []
    problems: list[Problem] = []
    policies: list[str] = []
    count = 0
    for root in paths:
        if not root.exists():
            problems.append(Problem(str(root), "not-found", "no such file or folder"))
            continue
        for path, kind in _walk(root, policies):
            count += 1
            found, trouble = scan_file(path, kind)
            refs.extend(found)
            problems.extend(trouble)
    return Scan(tuple(refs), tuple(problems), count, tuple(policies))


def _display(path: Path) -> str:
    text = path.as_posix()
    return text[2:] if text.startswith("./") else text


def _walk(root: Path, policies: list[str]) -> Iterator[tuple[Path, str]]:
    """(file, kind) for every file to read; `.gitignore` files apply to their own subtree."""
    if root.is_file():
        kind = _kind(root.name)
        if kind:
            yield root, kind
        return
    import pathspec

    # (folder relative to root, what goes before a path to make it relative to the
    # .gitignore's own folder, the patterns): a .gitignore above the root applies too.
    specs: list[tuple[str, str, Any]] = _ancestor_specs(root)
    for current, dirs, files in os.walk(root):
        here = Path(current)
        rel_here = os.path.relpath(current, root)
        rel_here = "" if rel_here == "." else rel_here.replace(os.sep, "/") + "/"
        specs = [sp for sp in specs if rel_here.startswith(sp[0])]
        if ".gitignore" in files:
            try:
                lines = (here / ".gitignore").read_text(encoding="utf-8").splitlines()
                specs.append((rel_here, "", pathspec.GitIgnoreSpec.from_lines(lines)))
            except (OSError, UnicodeDecodeError):
                pass

        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIP_DIRS
            and not (here / d / "pyvenv.cfg").exists()
            and not _ignored(specs, rel_here + d + "/")
        )
        for name in sorted(files):
            if name == POLICY_FILE:
                policies.append(_display(here / name))
            kind = _kind(name)
            if kind and not _ignored(specs, rel_here + name):
                yield here / name, kind


def _ignored(specs: list[tuple[str, str, Any]], rel: str) -> bool:
    """Each `.gitignore` matches paths relative to its own folder."""
    return any(spec.match_file(offset + rel[len(base) :]) for base, offset, spec in specs)


def _ancestor_specs(root: Path) -> list[tuple[str, str, Any]]:
    """`.gitignore` files of the folders above `root`, up to the repository's top."""
    import pathspec

    out: list[tuple[str, str, Any]] = []
    folder = root.resolve()
    offset = ""
    while (folder.parent != folder) and not (folder / ".git").exists():
        offset = f"{folder.name}/{offset}"
        folder = folder.parent
        ignore = folder / ".gitignore"
        if ignore.is_file():
            try:
                lines = ignore.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            out.append(("", offset, pathspec.GitIgnoreSpec.from_lines(lines)))
    return out


def _kind(name: str) -> str | None:
    if name.endswith(".py"):
        return "python"
    if name.endswith(".ipynb"):
        return "notebook"
    if name in ("pyproject.toml", MANIFEST_FILE):
        return "manifest"
    return None


def scan_file(path: Path, kind: str) -> tuple[list[CodeRef], list[Problem]]:
    """References in one file; a file that cannot be read or parsed is a problem, not a gap."""
    shown = _display(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return [], [Problem(shown, "too-large", f"over {MAX_FILE_BYTES} bytes: not scanned")]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(shown, "error", f"cannot read ({exc.__class__.__name__})")]
    if kind == "manifest":
        return scan_manifest(text, shown)
    if kind == "notebook":
        return scan_notebook(text, shown, path.parent)
    if not may_reference(text):
        return [], []
    try:
        tree = ast.parse(text, filename=shown)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or 1
        return [], [Problem(f"{shown}:{line}", "malformed", "cannot parse Python: not scanned")]
    return _Finder(shown, path.parent).run(tree), []


# --------------------------------------------------------------------------- Python


class _Finder(ast.NodeVisitor):
    """Walks one module: module-level string constants, import aliases, matching calls."""

    def __init__(self, file: str, folder: Path, cells: list[tuple[int, int]] | None = None):
        self.file = file
        self.folder = folder
        #: For a notebook: (first line of the cell in the joined source, cell number).
        self.cells = cells
        self.constants: dict[str, str] = {}
        self.aliases: dict[str, str] = {}
        #: Names imported from transformers (its `pipeline` without a model has a default).
        self.from_transformers: set[str] = set()
        #: Enclosing functions of the node being visited; their locals are computed on demand.
        self.scopes: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda] = []
        self._locals: dict[int, frozenset[str]] = {}
        self.refs: list[CodeRef] = []

    def run(self, tree: ast.Module) -> list[CodeRef]:
        self._module_constants(tree)
        self.visit(tree)
        return sorted(self.refs, key=lambda r: (r.cell or 0, r.line, r.column))

    def _module_constants(self, tree: ast.Module) -> None:
        seen: dict[str, int] = {}
        for node in tree.body:
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            for t in targets:
                if isinstance(t, ast.Name):
                    seen[t.id] = seen.get(t.id, 0) + 1
                    resolved = self._string(value) if value is not None else None
                    if resolved is not None:
                        self.constants[t.id] = resolved
        # A name bound twice at module level has no single value to trust.
        for name, n in seen.items():
            if n > 1:
                self.constants.pop(name, None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for a in node.names:
            if a.asname:
                self.aliases[a.asname] = a.name
            if node.module and node.module.split(".")[0] == "transformers":
                self.from_transformers.update({a.name, a.asname or a.name})

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self.scopes.append(node)
        self.generic_visit(node)
        self.scopes.pop()

    def _local_names(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    ) -> frozenset[str]:
        """Parameters and names assigned in a function: they shadow module constants."""
        key = id(node)
        if key not in self._locals:
            args = node.args
            names = {
                a.arg
                for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
                if a is not None
            }
            names.update(
                sub.id
                for sub in ast.walk(node)
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store)
            )
            self._locals[key] = frozenset(names)
        return self._locals[key]

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function
    visit_Lambda = _function

    def visit_Call(self, node: ast.Call) -> None:
        spec, called = self._spec(node.func)
        if spec is not None:
            ref = self._reference(node, spec, called)
            if ref is not None:
                self.refs.append(ref)
        self.generic_visit(node)

    def _spec(self, func: ast.expr) -> tuple[CallSpec | None, str]:
        called = _dotted(func, self.aliases)
        parts = called.split(".")
        last, owner = parts[-1], parts[-2] if len(parts) > 1 else ""
        for spec in CALLS:
            if spec.name in (last, f"{owner.removesuffix('()')}.{last}"):
                return spec, called
        return None, called

    def _argument(self, node: ast.Call, spec: CallSpec) -> ast.expr | None:
        for kw in node.keywords:
            if kw.arg in spec.keywords:
                return kw.value
        if spec.position is not None and len(node.args) > spec.position:
            arg = node.args[spec.position]
            return None if isinstance(arg, ast.Starred) else arg
        return None

    def _reference(self, node: ast.Call, spec: CallSpec, called: str) -> CodeRef | None:
        arg = self._argument(node, spec)
        if arg is None:
            return self._task_default(node, spec, called)
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        repo_type = keywords.get("repo_type")
        if repo_type is not None and self._string(repo_type) not in (None, "model"):
            return None  # a dataset or a Space, not a model
        revision = keywords.get("revision")
        remote = keywords.get("trust_remote_code")
        line, column, cell = self._position(arg)
        base = CodeRef(
            file=self.file,
            line=line,
            column=column,
            call=called,
            status="unresolved",
            revision=self._string(revision) if revision is not None else None,
            trust_remote_code=isinstance(remote, ast.Constant) and remote.value is True,
            cell=cell,
            expression=_source(arg),
        )
        value = self._string(arg)
        if value is None:
            return replace(base, reason=_why_unresolved(arg))
        if spec.prefix:
            prefix = next((p for p in spec.prefix if value.startswith(p)), None)
            if prefix is None:
                return None  # a library's built-in architecture name, not a Hub repo
            value = value[len(prefix) :]
        return classify(value, base, self.folder)

    def _task_default(self, node: ast.Call, spec: CallSpec, called: str) -> CodeRef | None:
        """transformers' `pipeline("task")` with no model downloads the task's default model
        from the Hub, chosen by the installed transformers version: a model dependency no
        string names, reported as unresolved at the call. Any other call without a model
        (a `**kwargs` that may carry one, another library's `pipeline`) has nothing to locate."""
        if spec.name != "pipeline" or any(kw.arg is None for kw in node.keywords):
            return None
        root = called.split(".")[0]
        if root not in self.from_transformers and root != "transformers":
            return None
        line, column, cell = self._position(node)
        return CodeRef(
            file=self.file,
            line=line,
            column=column,
            call=called,
            status="unresolved",
            cell=cell,
            expression=_source(node),
            reason=(
                "no model named: transformers downloads the task's default model from the Hub"
                " (name it with model= and revision=)"
            ),
        )

    def _position(self, node: ast.expr) -> tuple[int, int, int | None]:
        line, column = node.lineno, node.col_offset + 1
        if self.cells is None:
            return line, column, None
        start, number = max((c for c in self.cells if c[0] <= line), default=(1, 1))
        return line - start + 1, column, number

    def _string(self, node: ast.expr) -> str | None:
        """The string a node always evaluates to, when that can be read statically."""
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            if any(node.id in self._local_names(f) for f in self.scopes):
                return None
            return self.constants.get(node.id)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                if isinstance(v, ast.FormattedValue):
                    if v.format_spec is not None or v.conversion not in (-1, 115):
                        return None
                    s = self._string(v.value)
                else:
                    s = self._string(v)
                if s is None:
                    return None
                parts.append(s)
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self._string(node.left), self._string(node.right)
            return None if left is None or right is None else left + right
        return None


def _dotted(func: ast.expr, aliases: dict[str, str]) -> str:
    """`a.b.c` for attribute chains; `HfApi().model_info` keeps the call visible."""
    if isinstance(func, ast.Name):
        return aliases.get(func.id, func.id)
    if isinstance(func, ast.Attribute):
        return f"{_dotted(func.value, aliases)}.{func.attr}"
    if isinstance(func, ast.Call):
        return f"{_dotted(func.func, aliases)}()"
    return "<expr>"


def _source(node: ast.expr) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 120 else text[:117] + "..."


def _why_unresolved(node: ast.expr) -> str:
    text = ast.unparse(node)
    if "environ" in text or "getenv" in text:
        return "read from the environment at run time"
    if isinstance(node, ast.JoinedStr):
        return "an f-string built at run time"
    if isinstance(node, ast.Name):
        return f"the variable '{node.id}' has no single constant value"
    if isinstance(node, ast.Subscript | ast.Attribute):
        return "read from a run-time object (configuration, arguments or input)"
    if isinstance(node, ast.Call):
        return "the result of a call at run time"
    return "an expression evaluated at run time"


def classify(value: str, base: CodeRef, folder: Path | None) -> CodeRef:
    """A static string: a Hub id, a local folder, or neither (unresolved, with the reason)."""
    text = value.strip()
    if _HUB_URL.match(text):
        text = _HUB_URL.sub("", text).split("/tree/")[0].rstrip("/")
    if text.startswith(("/", "./", "../", "~")) or "\\" in text or re.match(r"^[A-Za-z]:", text):
        return replace(base, status="local", expression=value, reason="a path on disk")
    if folder is not None and text and (folder / text).exists():
        return replace(base, status="local", expression=value, reason="a folder next to the code")
    if not text or not _HUB_ID.match(text) or ".." in text:
        return replace(base, expression=value, reason="not a Hugging Face repo id")
    missing = "/" in text and (
        text.split("/", 1)[0].lower() in _LOCAL_WORDS
        or (folder is not None and (folder / text.split("/", 1)[0]).is_dir())
    )
    return replace(base, status="hub", repo_id=text, expression="", missing_local=missing)


# --------------------------------------------------------------------------- notebooks


def scan_notebook(text: str, shown: str, folder: Path) -> tuple[list[CodeRef], list[Problem]]:
    """Code cells joined into one module (constants flow between cells), located by cell."""
    try:
        doc = json.loads(text)
        cells = doc["cells"] if isinstance(doc, dict) else None
        if not isinstance(cells, list):
            raise ValueError("no cells")
    except (ValueError, KeyError, TypeError):
        return [], [Problem(shown, "malformed", "not a Jupyter notebook: not scanned")]
    lines: list[str] = []
    starts: list[tuple[int, int]] = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        body = "".join(source) if isinstance(source, list) else str(source)
        starts.append((len(lines) + 1, number))
        # Magics and shell escapes are not Python; keep their lines so numbering holds.
        lines.extend("" if ln.lstrip().startswith(("%", "!")) else ln for ln in body.split("\n"))
    joined = "\n".join(lines)
    if not may_reference(joined):
        return [], []
    try:
        tree = ast.parse(joined, filename=shown)
    except (SyntaxError, ValueError):
        refs, problems = _cell_by_cell(lines, starts, shown, folder)
    else:
        refs, problems = _Finder(shown, folder, starts).run(tree), []
    return _with_file_lines(refs, text, cells), problems


def _with_file_lines(refs: list[CodeRef], text: str, cells: list[Any]) -> list[CodeRef]:
    """Each notebook reference with the line of the .ipynb file its source line is written on,
    so that code scanning can annotate the file a pull request changes. Found by decoding each
    cell's `source` value where the file writes it; a notebook laid out otherwise keeps the
    cell and line alone."""
    wanted = {r.cell for r in refs if r.cell is not None}
    if not wanted:
        return refs
    located = _source_lines(text, cells, wanted)
    out = []
    for ref in refs:
        lines = located.get(ref.cell) if ref.cell is not None else None
        if lines is not None and 0 < ref.line <= len(lines):
            ref = replace(ref, file_line=lines[ref.line - 1])
        out.append(ref)
    return out


_SOURCE_KEY = re.compile(r'"source"\s*:\s*')
_DECODER = json.JSONDecoder()


def _source_lines(text: str, cells: list[Any], wanted: set[int]) -> dict[int, list[int]]:
    """For each wanted cell (1-based), the file line of each line of its source."""
    out: dict[int, list[int]] = {}
    position = 0
    for number, cell in enumerate(cells, 1):
        source = cell.get("source") if isinstance(cell, dict) else None
        if source is None:
            continue
        # The next "source" key whose value is this cell's source (a key of the same name in
        # metadata or outputs decodes to something else and is passed over).
        for match in _SOURCE_KEY.finditer(text, position):
            try:
                value, end = _DECODER.raw_decode(text, match.end())
            except ValueError:
                continue
            if value == source:
                break
        else:
            return out  # laid out otherwise: stop rather than guess
        position = end
        if number in wanted:
            out[number] = _element_lines(text, match.end(), end, source)
    return out


def _element_lines(text: str, start: int, end: int, source: Any) -> list[int]:
    """The file line of each source line, given where the `source` value starts and ends.

    A source line belongs to the element it starts in: after each newline inside an element
    that has more text, or in the next element after one that ends with a newline."""
    first = text.count("\n", 0, start) + 1
    if not isinstance(source, list):
        return [first] * (str(source).count("\n") + 1)
    starts: dict[int, int] = {}
    line = 1
    cursor = start + 1  # past '['
    for element in source:
        at = text.find('"', cursor, end)
        if at < 0:
            break
        _, cursor = _DECODER.raw_decode(text, at)
        physical = first + text.count("\n", start, at)
        piece = str(element)
        starts.setdefault(line, physical)
        for i, char in enumerate(piece):
            if char == "\n":
                line += 1
                if i < len(piece) - 1:
                    starts.setdefault(line, physical)
    out: list[int] = []
    for number in range(1, max(starts, default=0) + 1):
        out.append(starts.get(number, out[-1] if out else first))
    return out


def _cell_by_cell(
    lines: list[str], starts: list[tuple[int, int]], shown: str, folder: Path
) -> tuple[list[CodeRef], list[Problem]]:
    """One broken cell must not hide the others: parse each cell on its own."""
    refs: list[CodeRef] = []
    problems: list[Problem] = []
    bounds = [*(s for s, _ in starts), len(lines) + 1]
    for (start, number), end in zip(starts, bounds[1:], strict=True):
        source = "\n".join(lines[start - 1 : end - 1])
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            problems.append(Problem(f"{shown}:cell {number}", "malformed", "cannot parse Python"))
            continue
        refs.extend(_Finder(shown, folder, [(1, number)]).run(tree))
    return refs, problems


# --------------------------------------------------------------------------- manifests


def scan_manifest(text: str, shown: str) -> tuple[list[CodeRef], list[Problem]]:
    """`[tool.openaudit] models` in pyproject.toml, or `models` in openaudit.toml."""
    if "openaudit" not in text and not shown.endswith(MANIFEST_FILE):
        return [], []
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [Problem(shown, "malformed", f"invalid TOML: {exc}")]
    table = doc.get("tool", {}).get("openaudit", {}) if isinstance(doc.get("tool"), dict) else {}
    if shown.endswith(MANIFEST_FILE) and "models" in doc:
        table = doc
    models = table.get("models") if isinstance(table, dict) else None
    if models is None:
        return [], []
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        return [], [Problem(shown, "malformed", "models: must be a list of 'owner/name[@rev]'")]
    lines = text.splitlines()
    refs = []
    for model in models:
        line, column = _find(lines, model)
        repo, _, rev = model.partition("@")
        base = CodeRef(shown, line, column, "manifest", "unresolved", revision=rev or None)
        refs.append(classify(repo, base, None))
    return refs, []


def _find(lines: list[str], value: str) -> tuple[int, int]:
    for quote in ('"', "'"):
        needle = f"{quote}{value}{quote}"
        for number, line in enumerate(lines, 1):
            col = line.find(needle)
            if col >= 0:
                return number, col + 1
    return 1, 1
