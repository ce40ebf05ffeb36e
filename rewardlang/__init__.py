"""rewardlang: a declarative reward language for GRPO fine-tuning with TRL.

    >>> import rewardlang
    >>> spec = rewardlang.parse('reward demo\\nrule brief: length ..120 words')
    >>> spec.rules[0].name
    'brief'

Importing rewardlang never imports torch, transformers or sentence-transformers;
each name below is imported on first use (PEP 562), so that `rewardc check` and
`import rewardlang.codes` do not pay for the compiler.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and editors see; `_PUBLIC` serves the same names (tests/test_imports.py)
    from rewardlang.ast import Spec
    from rewardlang.compiler import CompiledSpec, RewardFunction, Scores, load, loads
    from rewardlang.diagnostics import Diagnostic, Severity, SpecError
    from rewardlang.frontend import Analysis, SourceError, SourceTooLarge, analyze, parse, parse_file
    from rewardlang.source import Span

# The public names, by the module that defines each: imported when first used.
_PUBLIC = {
    "rewardlang.ast": ("Spec",),
    "rewardlang.compiler": ("CompiledSpec", "RewardFunction", "Scores", "load", "loads"),
    "rewardlang.diagnostics": ("Diagnostic", "Severity", "SpecError"),
    "rewardlang.frontend": ("Analysis", "SourceError", "SourceTooLarge", "analyze", "parse", "parse_file"),
    "rewardlang.source": ("Span",),
}
_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = [
    "Analysis",
    "CompiledSpec",
    "Diagnostic",
    "RewardFunction",
    "Scores",
    "Severity",
    "SourceError",
    "SourceTooLarge",
    "Span",
    "Spec",
    "SpecError",
    "analyze",
    "load",
    "loads",
    "parse",
    "parse_file",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'rewardlang' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found once: later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
