"""Rebuild the canonical licence texts of this folder from ../shared/license-texts.

Why a script: the SPDX templates arrive flattened onto one line, with the
licence's cross-reference URLs, SPDX notes and (for the GNU licences) the
standard header in front of the title, and LGPL-3.0 carries the whole GPL-3.0
as "optional" text. Matching against that raw form would make every GPL text
look like LGPL-3.0 and every real file miss its first paragraph, so each text
is cut to the licence proper, template copyright lines are dropped (a real
file's copyright line is dropped by `normalise` too) and the result is wrapped
for human review. The cut points are written here, next to the source they
apply to, so a reviewer can check them; run it again when the sources change:

    .venv/bin/python licenses/texts/build_texts.py [PATH/TO/shared/license-texts]

It only writes `*.txt` and `aup/*.txt`; `manifest.yml` (ids, kinds, families,
distinguishing phrases) is maintained by hand.
"""

from __future__ import annotations

import html
import re
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: kb id -> (source file, start marker or "", end marker or "", literal (old, new) replacements)
Replace = tuple[tuple[str, str], ...]
SPDX: dict[str, tuple[str, str, str, Replace]] = {
    "afl-3.0": ("AFL-3.0", 'Academic Free License ("AFL")', "", ()),
    "agpl-3.0": ("AGPL-3.0-only", "GNU AFFERO GENERAL PUBLIC LICENSE Version 3", "", ()),
    "apache-2.0": ("Apache-2.0", "Apache License Version 2.0", "", ()),
    "artistic-2.0": ("Artistic-2.0", "The Artistic License 2.0", "", ()),
    "bsd-2-clause": ("BSD-2-Clause", "", "", ()),
    "bsd-3-clause": ("BSD-3-Clause", "Redistribution and use", "", ()),
    "bsd-3-clause-clear": ("BSD-3-Clause-Clear", "The Clear BSD License", "", ()),
    "bsl-1.0": ("BSL-1.0", "Boost Software License - Version 1.0", "", ()),
    "c-uda": ("C-UDA-1.0", "", "", ()),
    "cc-by-2.0": ("CC-BY-2.0", "", "", ()),
    "cc-by-2.5": ("CC-BY-2.5", "", "", ()),
    "cc-by-3.0": ("CC-BY-3.0", "", "", ()),
    "cc-by-4.0": ("CC-BY-4.0", "", "", ()),
    "cc-by-nc-2.0": ("CC-BY-NC-2.0", "", "", ()),
    "cc-by-nc-3.0": ("CC-BY-NC-3.0", "", "", ()),
    "cc-by-nc-4.0": ("CC-BY-NC-4.0", "", "", ()),
    "cc-by-nc-nd-3.0": ("CC-BY-NC-ND-3.0", "", "", ()),
    "cc-by-nc-nd-4.0": ("CC-BY-NC-ND-4.0", "", "", ()),
    "cc-by-nc-sa-2.0": ("CC-BY-NC-SA-2.0", "", "", ()),
    "cc-by-nc-sa-3.0": ("CC-BY-NC-SA-3.0", "", "", ()),
    "cc-by-nc-sa-4.0": ("CC-BY-NC-SA-4.0", "", "", ()),
    "cc-by-nd-4.0": ("CC-BY-ND-4.0", "", "", ()),
    "cc-by-sa-3.0": ("CC-BY-SA-3.0", "", "", ()),
    "cc-by-sa-4.0": ("CC-BY-SA-4.0", "", "", ()),
    "cc0-1.0": ("CC0-1.0", "", '" name="upstreamLink">', ()),
    "cdla-permissive-1.0": ("CDLA-Permissive-1.0", "", "", ()),
    "cdla-permissive-2.0": ("CDLA-Permissive-2.0", "", "", ()),
    "cdla-sharing-1.0": ("CDLA-Sharing-1.0", "", "", ()),
    "ecl-2.0": ("ECL-2.0", "Educational Community License Version 2.0, April 2007", "", ()),
    "epl-1.0": ("EPL-1.0", "Eclipse Public License - v 1.0", "", ()),
    "epl-2.0": ("EPL-2.0", "Eclipse Public License - v 2.0", "", ()),
    "etalab-2.0": ("etalab-2.0", "LICENCE OUVERTE / OPEN LICENCE", "", ()),
    "eupl-1.1": ("EUPL-1.1", "European Union Public Licence V. 1.1", "", ()),
    "eupl-1.2": ("EUPL-1.2", "European Union Public Licence v. 1.2", "", ()),
    "gfdl-1.3": ("GFDL-1.3-only", "GNU Free Documentation License Version 1.3", "", ()),
    "gpl-2.0": ("GPL-2.0-only", "GNU GENERAL PUBLIC LICENSE Version 2", "", ()),
    "gpl-3.0": ("GPL-3.0-only", "GNU GENERAL PUBLIC LICENSE Version 3", "", ()),
    "isc": ("ISC", "ISC License", "", (("<copyright notice>", ""),)),
    "lgpl-2.1": ("LGPL-2.1-only", "GNU LESSER GENERAL PUBLIC LICENSE Version 2.1", "", ()),
    # The template carries the GPL-3.0 after the LGPL's own text: cut it, or GPL-3.0
    # files would be "contained" in LGPL-3.0.
    "lgpl-3.0": (
        "LGPL-3.0-only",
        "GNU LESSER GENERAL PUBLIC LICENSE Version 3",
        "GNU GENERAL PUBLIC LICENSE Version 3",
        (),
    ),
    "lgpl-lr": ("LGPLLR", "Lesser General Public License For Linguistic Resources", "", ()),
    "lppl-1.3c": ("LPPL-1.3c", "The LaTeX Project Public License", "", ()),
    # The template merges the X11 optional phrases into the text; the common MIT (Expat)
    # text has neither.
    "mit": (
        "MIT",
        "MIT License",
        "",
        (
            (" (including the next paragraph)", ""),
            ("without limitation on the rights", "without limitation the rights"),
        ),
    ),
    "mpl-2.0": ("MPL-2.0", "Mozilla Public License Version 2.0", "", ()),
    "ms-pl": ("MS-PL", "", "", ()),
    "ncsa": ("NCSA", "", "", ()),
    "odc-by": ("ODC-By-1.0", "", "", ()),
    "odbl": ("ODbL-1.0", "", "", ()),
    "ofl-1.1": ("OFL-1.1", "SIL OPEN FONT LICENSE Version 1.1", "", ()),
    "openmdw-1.0": ("OpenMDW-1.0", "", "", ()),
    "osl-3.0": ("OSL-3.0", "", "", ()),
    "pddl": ("PDDL-1.0", "", "", ()),
    "postgresql": ("PostgreSQL", "", "", ()),
    "unlicense": ("Unlicense", "This is free and unencumbered", "", ()),
    "wtfpl": ("WTFPL", "", "", ()),
    "zlib": ("Zlib", "", "", ()),
}

#: output path (relative) -> (source file under ai/, start marker, end marker)
AI: dict[str, tuple[str, str, str]] = {
    "apple-amlr.txt": ("apple-amlr.txt", "", ""),
    "apple-ascl.txt": ("apple-ascl.txt", "", ""),
    "apple-ml-ferret.txt": ("apple-ml-ferret-code-license.txt", "", ""),
    "bigcode-openrail-m.txt": ("bigcode-openrail-m-v1.txt", "", ""),
    "bigscience-bloom-rail-1.0.txt": ("bigscience-bloom-rail-1.0.txt", "", ""),
    "bigscience-openrail-m.txt": ("bigscience-openrail-m.txt", "", ""),
    "creativeml-openrail-m.txt": ("creativeml-openrail-m.txt", "", ""),
    "openrail++.txt": ("creativeml-openrail++-m.txt", "", ""),
    "deepfloyd-if-license.txt": ("deepfloyd-if-license.txt", "", ""),
    "deepseek.txt": ("deepseek-license-1.0.txt", "", ""),
    "fair-noncommercial-research-license.txt": ("fair-noncommercial-research-license.txt", "", ""),
    "gemma.txt": ("gemma-terms-of-use-2025-03-24.txt", "", ""),
    "gemma--2024-04-01.txt": ("gemma-terms-of-use-2024-04-01.txt", "", ""),
    "llama2.txt": ("llama2.txt", "", ""),
    # The stored Llama 3 licence has its acceptable-use policy appended; the policy is
    # kept apart (aup/llama3-aup.txt) like every other one.
    "llama3.txt": ("llama3.txt", "", "Meta Llama 3 Acceptable Use Policy"),
    "llama3.1.txt": ("llama3.1.txt", "", ""),
    "llama3.2.txt": ("llama3.2.txt", "", ""),
    "llama3.3.txt": ("llama3.3.txt", "", ""),
    "llama4.txt": ("llama4.txt", "", ""),
    "mrl.txt": ("mistral-research-license-0.1.md", "", ""),
    "nvidia-open-model-agreement.txt": ("nvidia-open-model-agreement-2026-04-02.txt", "", ""),
    "opt-175b.txt": ("opt-175b-license.txt", "", ""),
    "stability-ai-noncommercial-community.txt": (
        "stability-ai-noncommercial-community-2024-03-18.txt",
        "",
        "",
    ),
    "stability-ai-noncommercial-research.txt": (
        "stability-ai-noncommercial-research-community-2023-11-28.txt",
        "",
        "",
    ),
    "tongyi-qianwen.txt": ("tongyi-qianwen-license-2023-08-03.txt", "", ""),
    "tongyi-qianwen-research.txt": ("tongyi-qianwen-research-license-2023-11-30.txt", "", ""),
    "yi-license.txt": ("yi-community-license-2.1.txt", "", ""),
    "aup/llama2-aup.txt": ("llama2-acceptable-use-policy.md", "", ""),
    "aup/llama3-aup.txt": ("llama3-acceptable-use-policy.md", "", ""),
    "aup/llama3.1-aup.txt": ("llama3.1-acceptable-use-policy.md", "", ""),
    "aup/llama3.2-aup.txt": ("llama3.2-acceptable-use-policy.md", "", ""),
    "aup/llama3.3-aup.txt": ("llama3.3-acceptable-use-policy.md", "", ""),
    "aup/llama4-aup.txt": ("llama4-acceptable-use-policy.md", "", ""),
    "aup/gemma-pup.txt": ("gemma-prohibited-use-policy-2024-02-21.txt", "", ""),
    "aup/cohere-c4ai-aup.txt": ("cohere-c4ai-acceptable-use-policy.txt", "", ""),
    "aup/cohere-labs-aup.txt": (
        "cohere-labs-acceptable-use-policy.txt",
        "We believe that independent",
        "",
    ),
}

_URLS = re.compile(r"^(\s*https?://\S+)+\s*")
# A template's copyright statement: "Copyright (c) <year> <copyright holders>",
# "Copyright [yyyy] [name of copyright owner]", "Copyright (C) yyyy name of author" ...
_PLACEHOLDER = r"(?:<[^<>]{1,60}>|\[[^\[\]]{1,60}\]|yyyy|YEAR|year|Year)"
_COPYRIGHT = re.compile(
    r"Copyright\s*(?:\(c\)|\(C\)|©)?\s*" + _PLACEHOLDER
    + r"(?:[\s,.-]*(?:" + _PLACEHOLDER + r"|name of author|YOUR NAME))*\.?"
    + r"(?:\s*All rights reserved\.)?"
)
_COPYRIGHT_START = re.compile(
    r"[^\w]*(?:portions\s+)?(?:copyright\b|\(c\)|©|all rights reserved)", re.IGNORECASE
)
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_ORIGINAL_COPY = re.compile(r"\A\s*\[(?:For the original copy|The original copy)[^\]]*\]\s*")


def _cut(text: str, start: str, end: str, name: str) -> str:
    if start:
        at = text.find(start)
        if at < 0:
            raise SystemExit(f"{name}: start marker {start!r} not found")
        text = text[at:]
    if end:
        at = text.find(end, 1)
        if at < 0:
            raise SystemExit(f"{name}: end marker {end!r} not found")
        text = text[:at]
    return text


def build_spdx(src: Path, spec: tuple[str, str, str, Replace]) -> str:
    name, start, end, replacements = spec
    text = html.unescape((src / "spdx" / f"{name}.txt").read_text(encoding="utf-8"))
    text = _URLS.sub("", text)
    text = _cut(text, start, end, name)
    for old, new in replacements:
        if old not in text:
            raise SystemExit(f"{name}: text to replace {old!r} not found")
        text = text.replace(old, new)
    text = _COPYRIGHT.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    lines: list[str] = []
    for line in textwrap.wrap(text, width=78, break_long_words=False, break_on_hyphens=False):
        # A wrapped line that happens to start like a copyright line would be dropped by
        # `normalise`, taking licence words with it: keep it on the line before.
        if lines and _COPYRIGHT_START.match(line):
            lines[-1] += " " + line
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def build_ai(src: Path, spec: tuple[str, str, str]) -> str:
    name, start, end = spec
    text = (src / "ai" / name).read_text(encoding="utf-8")
    text = _FRONT_MATTER.sub("", text)
    text = _ORIGINAL_COPY.sub("", text)
    text = _cut(text, start, end, name)
    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return text + "\n"


def main(argv: list[str]) -> int:
    default = HERE.parents[2] / "shared" / "license-texts"
    src = Path(argv[1]) if len(argv) > 1 else default
    if not src.is_dir():
        print(f"no licence texts at {src}", file=sys.stderr)
        return 2
    (HERE / "aup").mkdir(exist_ok=True)
    for kb_id, spdx_spec in SPDX.items():
        (HERE / f"{kb_id}.txt").write_text(build_spdx(src, spdx_spec), encoding="utf-8")
    for out, ai_spec in AI.items():
        (HERE / out).write_text(build_ai(src, ai_spec), encoding="utf-8")
    print(f"wrote {len(SPDX) + len(AI)} texts to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
