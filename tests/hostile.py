"""A hostile model folder: every field a card controls carries markup, links, URLs and escapes.

Built at test time in a temporary folder, because its folder names hold characters (`|`, `<`,
ESC) that a repository checkout should not have to carry.
"""

from __future__ import annotations

from pathlib import Path

OWNER = "evil|org<b>"
NAME = "x](javascript:alert(1))`code`\x1b]0;pwned\x07\x1b[31m"
SCRIPT = "<script>alert('card')</script>"
IMG = "<img src=x onerror=alert(1)>"

CARD = f"""---
license: other
license_name: "{SCRIPT} | {IMG} | [click](javascript:alert(2))"
license_link: "javascript:alert(3)"
base_model: "evil-org/base|<script>x</script>"
datasets:
- "data|set<img src=x onerror=alert(4)>"
- "![pic](data:text/html,<script>alert(5)</script>)"
new_version: "vbscript:msgbox(6)"
tags:
- "<svg onload=alert(7)>"
---

# {SCRIPT} Model {IMG}

Fine-tuned on [data](javascript:alert(8)) and `backticks` | pipes | <iframe src="data:text/html,x"></iframe>
\x1b]0;owned title\x07 \x9b31m C1 \x1b[2J clear

## Training data

Trained on www.evil.example and http://evil.example/<script>x</script> and evil@example.com.

## License

{SCRIPT} [MIT](javascript:alert(9))
"""


def make(root: Path) -> Path:
    """Write the hostile folder under `root` and return it."""
    folder = root / OWNER / NAME
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(CARD, encoding="utf-8")
    (folder / "config.json").write_text(
        '{"architectures": ["<script>A</script>"]}', encoding="utf-8"
    )
    (folder / "LICENSE").write_text(f"{SCRIPT}\nAll rights | reserved {IMG}\n", encoding="utf-8")
    return folder
