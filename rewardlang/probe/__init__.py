"""`rewardc probe`: attack a spec with shortcut completions built from its own rules.

`shortcuts` builds the probes (stuffed phrases, echoed targets, empty and format-only
answers, loops, disguised banned words, one completion per rule that maximises that
rule alone), one completion per honest answer; `run` scores them and the honest
answers with the compiled spec and gives each probe its verdict. docs/testing.md
describes the command and what it found in the packaged specs.
"""
