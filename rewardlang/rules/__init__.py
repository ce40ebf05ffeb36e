"""One module per rule kind. Each defines `compile(rule) -> RuleScorer`.

The compiler imports a kind's module only when a spec uses that kind, so
heavy libraries (sentence-transformers, transformers) load only when needed.
"""
