"""Text normalisation shared by checks and compiled rules.

`case insensitive` folds with NFKC + casefold (Unicode-aware: "Straße" matches
"STRASSE"); `case lower` is Python's `str.lower()`, what hand-written reward
functions use; `unicode raw` skips NFKC so text is compared as written.
"""

from __future__ import annotations

import unicodedata


def normalize(text: str, case: str = "insensitive", unicode: str = "nfkc") -> str:
    if unicode == "nfkc":
        text = unicodedata.normalize("NFKC", text)
    if case == "insensitive":
        return text.casefold()
    if case == "lower":
        return text.lower()
    return text
