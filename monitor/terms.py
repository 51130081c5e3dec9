"""How a brand's terms match text: one definition for the pipeline's brand filter and the connectors that
check matches themselves."""
from __future__ import annotations

import re


def term_pattern(terms: list[str]) -> re.Pattern | None:
    """One case-insensitive pattern matching any term as a whole word, #tag or @handle."""
    if not terms:
        return None
    alternatives = sorted({re.escape(t.lower()) for t in terms}, key=len, reverse=True)
    return re.compile(r"(?<![\w@#])(?:" + "|".join(alternatives) + r")(?!\w)", re.I)
