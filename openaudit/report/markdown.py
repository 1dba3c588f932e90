"""`--format markdown`: the whole run as one publishable Markdown document.

The same templates and escaping as `openaudit report` (`report.site`): the leaderboard,
then each model's scorecard as a section, so a pull-request comment and the published
files say the same thing in the same words.
"""

from __future__ import annotations

from openaudit.model import Scorecard


def render(scorecard: Scorecard) -> str:
    from openaudit.report.site import document

    return document(scorecard)
