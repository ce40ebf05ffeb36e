"""The checks `grpo-train` makes before it loads a model or writes a file.

Every function here is cheap (no torch, no model load, no network) and either returns a value or
raises `PreflightError` with a message that names the option, file or rule at fault, so that
`grpo-train` refuses bad input with exit 2 and leaves the disk as it found it:

- `read_config(path, known)`: the `--config` YAML file, read once; malformed YAML, a file that is
  not a mapping, or an unknown option is an error naming the file and line.
- `resume_request(value)`: what `--resume_from_checkpoint` asks for: nothing (a false word),
  the newest checkpoint in output_dir (a true word or `last`), or a checkpoint folder.
- `check_output_dir(...)`: the checkpoint to resume from, if any; an earlier run is never
  overwritten, nor mixed with another run's checkpoint.
- `model_location_problem(name)` / `rule_model_problems(spec)`: a model folder that does not
  exist, or a Hub id that cannot be loaded offline, is reported before anything loads.
- `data_warnings(spec, text, filename, dataset)`: what `rewardc check --data` warns about the
  training dataset (a column the spec reads that it lacks, a `when` that holds on no row);
  warnings only, they never stop training.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

__all__ = [
    "FALSE_WORDS",
    "LATEST_WORDS",
    "PreflightError",
    "check_output_dir",
    "data_warnings",
    "model_location_problem",
    "read_config",
    "resume_request",
    "rule_model_problems",
]

#: `--resume_from_checkpoint` values meaning "do not resume" (as TRL/transformers treat False).
FALSE_WORDS = frozenset({"", "false", "no", "0", "off", "none"})
#: Values meaning "the newest checkpoint-<step> in output_dir" (what transformers does for True).
LATEST_WORDS = frozenset({"true", "yes", "1", "on", "last", "latest"})
#: What `resume_request` returns for a LATEST_WORDS value.
LATEST = "last"


class PreflightError(ValueError):
    """Bad input found before anything loads or is written; the message says what and where."""


# ------------------------------------------------------------------------------------- --config
def read_config(path: str, options: dict[str, Any], scalars: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The options of a `--config` YAML file (`env` included), checked as TRL would, with places.

    `options` maps each option name to its argparse action. TRL's own reading lets a YAML syntax
    error escape as a traceback, names neither the file nor the line of an unknown option, and
    hands a YAML number or boolean to a text option unconverted (`output_dir: 5` crashes later);
    here each is one clear message, and such scalars are converted by the option's own type, as
    the same text on the command line would be. Lists and mappings pass through as TRL passes
    them (`report_to: [tensorboard]`, `model_init_kwargs: {...}`), except to the options named in
    `scalars` and to number and yes/no options, which take one value.
    """
    import yaml

    from rewardlang.frontend import unreadable

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PreflightError(f"--config {unreadable(path, exc, 'a YAML config file')}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PreflightError(f"--config {path}:{line}: not valid UTF-8") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)  # keeps each key's line
        config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PreflightError(f"--config {path}{_yaml_place(exc)}: not valid YAML: {_yaml_reason(exc)}") from None
    if not isinstance(config, dict):
        found = "an empty file" if config is None else f"a {type(config).__name__}"
        raise PreflightError(f"--config {path}: must be a YAML mapping of option: value, found {found}")

    lines = {}
    if isinstance(root, yaml.MappingNode):
        lines = {key.value: key.start_mark.line + 1 for key, _ in root.value if isinstance(key, yaml.ScalarNode)}
    checked: dict[str, Any] = {}
    for key, value in config.items():
        where = f"--config {path}:{lines.get(str(key), 1)}"
        if key == "env":
            if not isinstance(value, dict):
                raise PreflightError(f"{where}: `env` must be a mapping of VARIABLE: value")
            checked[key] = value
            continue
        if not isinstance(key, str) or key not in options:
            close = difflib.get_close_matches(str(key), sorted(options), n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise PreflightError(f"{where}: unknown option `{key}`{hint}")
        checked[key] = _converted(value, options[key], where, key, key in scalars)
    return checked


def _converted(value: Any, action: Any, where: str, key: str, scalar: bool) -> Any:
    """A YAML number or boolean as the option's type reads the same text on the command line."""
    import argparse

    convert = getattr(action, "type", None)
    if isinstance(value, (list, dict)):
        if scalar or (getattr(action, "nargs", None) in (None, "?") and convert not in (None, str)):
            raise PreflightError(f"{where}: `{key}` takes one value, not a {type(value).__name__}")
        return value
    if convert is None or not isinstance(value, (bool, int, float)):
        return value
    try:
        return convert(str(value))
    except (TypeError, ValueError, argparse.ArgumentTypeError):
        expected = f" (expected {convert.__name__})" if isinstance(convert, type) else ""
        raise PreflightError(f"{where}: invalid value {value!r} for `{key}`{expected}") from None


def _yaml_place(exc: Any) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""


def _yaml_reason(exc: Any) -> str:
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    reason = ", ".join(p for p in parts if p)
    return reason or str(exc).splitlines()[0]


# ------------------------------------------------------------------------ --resume_from_checkpoint
def resume_request(value: Any) -> str | None:
    """None (no resume), `LATEST`, or the checkpoint folder the user named.

    The value may come from the command line (a string) or from YAML (a bool, a number, null).
    False words mean no resume, so the usual output-folder check applies; true words and `last`
    mean the newest checkpoint in output_dir, as transformers' `Trainer.train(True)` does.
    A folder whose name is one of those words must be given as `./<name>`.
    """
    if value is None or value is False:
        return None
    if value is True:
        return LATEST
    word = str(value).strip()
    if word.lower() in FALSE_WORDS:
        return None
    if word.lower() in LATEST_WORDS:
        return LATEST
    return str(value)


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def _non_empty_dir(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def check_output_dir(output_dir: str, overwrite: bool, resume: str | None) -> str | None:
    """The checkpoint folder to resume from (None: start afresh), after refusing (PreflightError) an
    output folder that would lose or mix up an earlier run. Nothing is created or changed here.

    `resume` is what `resume_request` returned.
    """
    path = Path(output_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise PreflightError(f"output_dir {output_dir} exists and is not a folder; choose another --output_dir")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise PreflightError(f"output_dir {output_dir} cannot be created: {parent} is not a folder")
            break
    checkpoint = _resolve_resume(resume, output_dir)
    if overwrite or not _non_empty_dir(path):
        return checkpoint
    if checkpoint is None:
        raise PreflightError(
            f"output_dir {output_dir} is not empty (it holds an earlier run); refusing to overwrite it. "
            "Pass --overwrite to write into it, --resume_from_checkpoint to continue that run, "
            "or choose another --output_dir"
        )
    if not _inside(Path(checkpoint), path):
        raise PreflightError(
            f"--resume_from_checkpoint {resume} is a checkpoint of another run (it is not inside output_dir "
            f"{output_dir}), and output_dir {output_dir} is not empty (it holds an earlier run); refusing to mix "
            "the two runs. Resume into an empty or new --output_dir, or pass --overwrite"
        )
    return checkpoint


def _resolve_resume(resume: str | None, output_dir: str) -> str | None:
    """The checkpoint folder that `resume` names (None: no resume); PreflightError if there is none."""
    if resume is None:
        return None
    if resume == LATEST:
        from transformers.trainer_utils import get_last_checkpoint

        folder = Path(output_dir).expanduser()
        latest: str | None = get_last_checkpoint(str(folder)) if folder.is_dir() else None  # unannotated upstream
        if latest is None:
            raise PreflightError(
                f"--resume_from_checkpoint {LATEST}: no checkpoint-<step> folder in output_dir {output_dir}"
            )
        if not (Path(latest) / "trainer_state.json").is_file():
            raise PreflightError(
                f"--resume_from_checkpoint {LATEST}: the newest checkpoint {latest} is incomplete "
                "(no trainer_state.json); pass an earlier checkpoint folder"
            )
        return latest
    folder = Path(resume).expanduser()
    if not folder.is_dir():
        raise PreflightError(f"--resume_from_checkpoint {resume}: no such checkpoint folder")
    if not (folder / "trainer_state.json").is_file():
        raise PreflightError(
            f"--resume_from_checkpoint {resume}: not a checkpoint (no trainer_state.json); "
            f"pass a {output_dir}/checkpoint-<step> folder, or `last`"
        )
    return str(folder)


# ---------------------------------------------------------------------------------------- models
def model_location_problem(name: str, rule: str | None = None, sentence_transformers: bool = False) -> str | None:
    """Why the model `name` cannot be found without loading it, or None when it may load.

    - an existing folder is fine (whether it holds a loadable model shows when it loads);
    - a name that is a path (starts with `.`, `/` or `~`, or has more than one `/`) and does not
      exist is missing;
    - a Hub id (`name` or `org/name`) that is not a folder is missing when HF_HUB_OFFLINE or
      TRANSFORMERS_OFFLINE is set and it is not in the local Hugging Face cache; with the Hub
      online it is left to the Hub.
    The rules' own resolver (`rewardlang.rules.models`) decides what is a path and a Hub id.
    """
    from rewardlang.rules.models import ModelLoadError, hub_offline, resolve_model_name, where_relative

    try:
        path, local = resolve_model_name(name, rule)
    except ModelLoadError as exc:
        return str(exc)
    if local or not hub_offline():
        return None
    # sentence-transformers looks a bare name up under its own organisation too.
    candidates = [path] + ([f"sentence-transformers/{path}"] if sentence_transformers and "/" not in path else [])
    if any(_in_hub_cache(candidate) for candidate in candidates):
        return None
    from huggingface_hub import constants

    who = f"rule `{rule}`: " if rule else ""
    return (
        f"{who}model `{name}` is not a local folder ({where_relative(rule)}) and not in "
        f"the Hugging Face cache ({constants.HF_HUB_CACHE}), and the Hub is off (HF_HUB_OFFLINE or "
        "TRANSFORMERS_OFFLINE is set); give the path of a local model folder"
    )


def _in_hub_cache(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except ValueError:  # huggingface_hub rejects the id itself: it cannot be cached either
        return False


def rule_model_problems(spec: Any, filename: str) -> list[str]:
    """One message per rule whose `model` (relevance, classifier, a local judge) cannot be found, with its line.

    A relevance rule without `model` uses the packaged embedder, and a local judge without one the
    packaged SmolLM2: each must be installed. A judge on a server loads no model.
    """
    problems = []
    for rule in spec.rules:
        if "model" not in type(rule).model_fields or getattr(rule, "server", None) is not None:
            continue
        if rule.model is None:
            default_problem = _default_judge_problem if rule.kind == "judge" else _default_embedder_problem
            problem = default_problem(rule.name)
        else:
            problem = model_location_problem(rule.model, rule.name, sentence_transformers=rule.kind == "relevance")
        if problem is not None:
            problems.append(f"{filename}:{rule.span.line}: {problem}")
    return problems


def _default_judge_problem(rule: str) -> str | None:
    from rewardlang.rules.smollm2 import smollm2_gguf_path

    try:
        smollm2_gguf_path()
    except FileNotFoundError as exc:
        return f"rule `{rule}`: the default judge model is missing: {exc}"
    return None


def _default_embedder_problem(rule: str) -> str | None:
    from rewardlang.rules.models import ModelLoadError, default_embedding_model_path

    try:
        default_embedding_model_path()
    except ModelLoadError as exc:
        return f"rule `{rule}`: {exc}"
    return None


# ------------------------------------------------------------------------------------- dataset
DATA_SAMPLE_ROWS = 100_000  # rows whose `when` columns are read for the checks, as `rewardc check --data`


def data_warnings(spec: Any, text: str, filename: str, dataset: Any) -> str:
    """`rewardc check --data`'s warnings about the training dataset, rendered as check renders them ("" if none)."""
    from rewardlang.conditions import condition_columns, data_diagnostics
    from rewardlang.render import render, summary

    columns = set(dataset.column_names)
    read = [column for column in condition_columns(spec) if column in columns]
    sample = dataset.select(range(min(DATA_SAMPLE_ROWS, dataset.num_rows))).select_columns(read) if read else None
    rows = sample.to_list() if sample is not None else []
    diagnostics = data_diagnostics(spec, columns, rows)
    if not diagnostics:
        return ""
    return render(diagnostics, text, filename) + summary(0, len(diagnostics)) + "\n"
