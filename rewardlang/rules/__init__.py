"""Scoring helpers shared by the rule kinds (`rewardlang/kinds/`).

`base`: the scorer contract; `matching`: word, phrase and RE2 matching and
measuring, linear in the text; `models`: loading and caching the models of
model-backed kinds, lazily (heavy libraries load only when a rule first runs).
"""
