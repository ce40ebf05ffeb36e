"""`rewardc completion bash|zsh`: a shell completion script, generated from rewardc's own parser.

The script is written from the `argparse` parser that `rewardc` itself parses with: its
sub-commands, their options, each option's choices, and file names where an argument names
a file. So it cannot drift from the command line: a new option is completed as soon as it
exists. Nothing is needed at completion time but the shell (no argcomplete, no Python).
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rewardlang.exits import EXIT_OK

SHELLS = ("bash", "zsh")
# Arguments shown with these metavars name files: the shell completes file names for them.
FILE_METAVARS = frozenset({"FILE", "SPEC"})


@dataclass(frozen=True)
class Option:
    names: tuple[str, ...]  # e.g. ("-h", "--help")
    help: str
    takes_value: bool
    choices: tuple[str, ...]  # the values it accepts, when it has a fixed set
    files: bool  # its value is a file name


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Option, ...]
    files: bool  # its positional arguments are file names
    values: tuple[str, ...]  # the values its positional arguments accept, when they have a fixed set


def add_parser(commands: Any, top: argparse.ArgumentParser) -> None:
    """Add `completion`; `top` is the whole `rewardc` parser, the one the script describes."""
    parser = commands.add_parser(
        "completion",
        help="print a shell completion script (bash or zsh)",
        description='Print a completion script for rewardc. bash: eval "$(rewardc completion bash)" '
        "in ~/.bashrc; zsh: rewardc completion zsh > ~/.zfunc/_rewardc (with ~/.zfunc on $fpath, "
        "before compinit).",
    )
    parser.add_argument("shell", choices=SHELLS)
    parser.set_defaults(run=lambda args: run(args, top))


def run(args: argparse.Namespace, top: argparse.ArgumentParser) -> int:
    print(script(top, args.shell), end="")
    return EXIT_OK


def script(top: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for `shell` (one of `SHELLS`) that completes `top`'s command line."""
    writers: dict[str, Callable[[str, tuple[Option, ...], tuple[Command, ...]], str]] = {
        "bash": bash_script,
        "zsh": zsh_script,
    }
    return writers[shell](top.prog, options_of(top), commands_of(top))


def options_of(parser: argparse.ArgumentParser) -> tuple[Option, ...]:
    return tuple(
        Option(
            names=tuple(action.option_strings),
            help=_help(action),
            takes_value=action.nargs != 0,
            choices=tuple(str(choice) for choice in action.choices or ()),
            files=action.metavar in FILE_METAVARS,
        )
        for action in parser._actions  # argparse keeps no public list of its arguments
        if action.option_strings and action.help != argparse.SUPPRESS
    )


def commands_of(parser: argparse.ArgumentParser) -> tuple[Command, ...]:
    commands: list[Command] = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, sub in action.choices.items():
            positionals = [a for a in sub._actions if not a.option_strings]
            commands.append(
                Command(
                    name=name,
                    help=" ".join(helps.get(name, "").split()),
                    options=options_of(sub),
                    files=any(a.metavar in FILE_METAVARS for a in positionals),
                    values=tuple(str(choice) for a in positionals for choice in a.choices or ()),
                )
            )
    return tuple(commands)


def _help(action: argparse.Action) -> str:
    return " ".join((action.help or "").split()).replace("%(default)s", str(action.default))


def _reply(words: list[str] | tuple[str, ...]) -> str:
    """The bash statement that offers those of `words` that start with the word being completed."""
    return f'COMPREPLY=($(compgen -W {shlex.quote(" ".join(words))} -- "$cur"))'


def bash_script(prog: str, top_options: tuple[Option, ...], commands: tuple[Command, ...]) -> str:
    function = f"_{prog}"
    top_words = [name for option in top_options for name in option.names] + [c.name for c in commands]
    cases: list[str] = []
    for command in commands:
        values: list[str] = []
        for option in command.options:
            if not option.takes_value:
                continue
            pattern = "|".join(option.names)
            if option.choices:
                values.append(f"            {pattern}) {_reply(option.choices)}; return ;;")
            elif option.files:
                values.append(f'            {pattern}) _{prog}_files; return ;;')
            else:
                values.append(f"            {pattern}) return ;;")
        words = [name for option in command.options for name in option.names]
        if command.files:
            positional = f"_{prog}_files"
        elif command.values:
            positional = _reply(command.values)
        else:
            positional = "COMPREPLY=()"
        cases.append(
            f"        {command.name})\n"
            f'            case "$prev" in\n'
            + "".join(f"    {line}\n" for line in values)
            + "            esac\n"
            f'            if [[ "$cur" == -* ]]; then {_reply(words)}; else {positional}; fi ;;'
        )
    return f"""# bash completion for {prog}, generated by `{prog} completion bash`.
# Install: eval "$({prog} completion bash)" in ~/.bashrc
_{prog}_files() {{
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
}}
{function}() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}" command="" i
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ "${{COMP_WORDS[i]}}" != -* ]]; then command="${{COMP_WORDS[i]}}"; break; fi
    done
    case "$command" in
        "") {_reply(top_words)} ;;
{chr(10).join(cases)}
    esac
}}
complete -F {function} {prog}
"""


def _zsh_text(text: str) -> str:
    """`text` inside a single-quoted `_arguments` spec: brackets and colons escaped, quotes closed."""
    for special in ("\\", "[", "]", ":"):
        text = text.replace(special, "\\" + special)
    return text.replace("'", "'\\''").replace("`", "")


def _zsh_option(option: Option) -> str:
    names = option.names
    spelled = ("{" + ",".join(names) + "}") if len(names) > 1 else names[0]
    exclusive = f"({' '.join(names)})" if len(names) > 1 else ""
    spec = f"{_zsh_text(option.help)}]"
    if option.takes_value:
        if option.choices:
            action = f"({' '.join(option.choices)})"
        elif option.files:
            action = "_files"
        else:
            action = " "
        spec += f":value:{action}"
    if len(names) > 1:
        return f"'{exclusive}'{spelled}'[{spec}'"
    return f"'{spelled}[{spec}'"


def zsh_script(prog: str, top_options: tuple[Option, ...], commands: tuple[Command, ...]) -> str:
    described = " ".join(f"'{c.name}:{_zsh_text(c.help)}'" for c in commands)
    cases = []
    for command in commands:
        specs = [_zsh_option(option) for option in command.options]
        if command.files:
            specs.append("'*:file:_files'")
        elif command.values:
            specs.append(f"'1:value:({' '.join(command.values)})'")
        cases.append(f"        {command.name}) _arguments -s {' '.join(specs)} ;;")
    top = " ".join(_zsh_option(option) for option in top_options)
    return f"""#compdef {prog}
# zsh completion for {prog}, generated by `{prog} completion zsh`.
# Install: {prog} completion zsh > ~/.zfunc/_{prog}  (with ~/.zfunc on $fpath, before compinit)
_{prog}() {{
    local line state
    _arguments -C {top} '1:command:->command' '*::argument:->argument'
    case $state in
        command)
            local -a commands
            commands=({described})
            _describe command commands ;;
        argument)
            case $line[1] in
{chr(10).join(cases)}
            esac ;;
    esac
}}
_{prog} "$@"
"""
