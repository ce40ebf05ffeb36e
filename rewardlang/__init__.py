"""rewardlang: a declarative reward language for GRPO fine-tuning with TRL.

    >>> import rewardlang
    >>> spec = rewardlang.parse('reward demo\\nrule brief: length ..120 words')
    >>> spec.rules[0].name
    'brief'

Importing rewardlang never imports torch, transformers or sentence-transformers.
"""

from rewardlang.ast import Spec
from rewardlang.compiler import CompiledSpec, RewardFunction, Scores, load, loads
from rewardlang.diagnostics import Diagnostic, Severity, SpecError
from rewardlang.frontend import Analysis, SourceError, SourceTooLarge, analyze, parse, parse_file
from rewardlang.source import Span

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
