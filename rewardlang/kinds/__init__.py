"""The rule kinds, one module each: the model, the scorer and the `KIND` record of one kind.

`rewardlang.registry` finds every module of this package and reads its `KIND`:
adding a kind is adding a module here (and its grammar production; see
docs/contributing.md). Every module here is a kind; shared scoring helpers live
in `rewardlang/rules/`.
"""
