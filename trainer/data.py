"""Load a conversation dataset and prepare it for TRL's ``GRPOTrainer``.

TRL needs a ``prompt`` column (a string or a list of chat messages); a ``messages`` column is not
converted by TRL itself.  :func:`prepare` turns ``messages`` into ``prompt`` (the conversation up
to and including its last user turn) and keeps the final answer of the reply after it as a
``reference`` column.  Every other column is kept, so it reaches the rewards.

What a valid message and conversation are, and where a conversation splits, is decided by
`rewardlang.conversations`, the rules `rewardc score` applies too.  Rows that cannot be used are
skipped and counted by reason (its reason codes) in a :class:`PrepareReport`; a bad row never
raises.  A dataset with no usable row raises :class:`DataError`.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
from datasets import Dataset, DatasetDict, ReadInstruction

from rewardlang.conversations import REASONS, conversation_problem, final_answer, prompt_problem, split_conversation
from rewardlang.jsonlines import BOM, BadLine, JsonError, json_type, read_json, read_lines

__all__ = [
    "LOCAL_FORMATS",
    "SKIP_REASONS",
    "UNREADABLE_COLUMN",
    "DataError",
    "PrepareReport",
    "load_dataset_source",
    "prepare",
]


class DataError(Exception):
    """A dataset cannot be loaded or has no usable row.  The message is meant for the user."""


#: File extensions read as local files, and the format each one means.
LOCAL_FORMATS: dict[str, str] = {
    ".jsonl": "json",
    ".json": "json",
    ".parquet": "parquet",
    ".csv": "csv",
}

#: Why a row was skipped (reason code -> explanation): the conversation rules of
#: `rewardlang.conversations`, which `rewardc score` applies too, and this module's own.
SKIP_REASONS: dict[str, str] = {
    "no_prompt_or_messages": "row has neither a 'messages' nor a 'prompt' value",
    **REASONS,
    "unreadable_row": "a line (or JSON array element) is not a readable JSON object",
}

#: Column of the placeholder rows that stand for unreadable lines of a JSON file (see `_read_json`).
UNREADABLE_COLUMN = "__unreadable__"

_MAX_EXAMPLES = 3


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

_SPLIT_PART = re.compile(r"^\s*([\w.-]+)\s*(\[.*\])?\s*$")


def load_dataset_source(source: str, split: str = "train", config: str | None = None) -> Dataset:
    """Load ``source`` as one :class:`datasets.Dataset`.

    ``source`` is a local file (``.jsonl``/``.json``/``.parquet``/``.csv``), a folder written by
    ``save_to_disk`` (a ``Dataset`` or a ``DatasetDict``), or otherwise a Hugging Face Hub id.
    ``split`` accepts the ``datasets`` slicing syntax (``"train[:100]"``, ``"train[10%:]"``,
    ``"train+test"``).  A local file is a single split: any split name selects it, the slice
    applies.  ``config`` is only used for Hub datasets.

    Raises :class:`DataError` naming the source for a missing, unreadable or unknown-format input.
    """
    path = Path(os.path.expanduser(source))
    if path.is_dir():
        return _apply_split(_load_from_disk(path, split), split, path, whole_file=False)
    if path.is_file():
        table = _read_local_file(path)
        return _apply_split(table, split, path, whole_file=True)
    if path.suffix.lower() in LOCAL_FORMATS or source.startswith(("/", "./", "../", "~", ".\\")):
        raise DataError(f"{source}: no such file or folder")
    return _load_hub(source, split, config)


def _read_local_file(path: Path) -> Dataset:
    fmt = LOCAL_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(LOCAL_FORMATS))
        raise DataError(f"{path}: unknown data file format {path.suffix!r} (expected one of {known})")
    try:
        if fmt == "json":
            ds = _read_json(path)
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            ds = Dataset(pq.read_table(path))
        else:
            import pyarrow.csv as pacsv

            ds = Dataset(pacsv.read_csv(path))
    except DataError:
        raise
    except Exception as exc:  # pyarrow / json / datasets errors: report, never a traceback
        raise DataError(f"{path}: cannot read as {fmt}: {_one_line(exc)}") from exc
    if ds.num_rows == 0:
        raise DataError(f"{path}: contains no rows")
    return ds


def _read_json(path: Path) -> Dataset:
    """A JSON array of objects, one object, or JSON Lines: read as `rewardc score` reads them.

    A line (or array element) that is not a readable JSON object becomes a placeholder row
    holding only `UNREADABLE_COLUMN` (why, and where), so that :func:`prepare` skips and counts
    it like any other unusable row, and splits still count rows as they are in the file.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {_one_line(exc)}") from exc
    try:
        # As `rewardc score` reads them: `.jsonl` is JSON Lines; `.json` a document or JSON Lines.
        rows = list(read_lines([data])) if path.suffix.lower() == ".jsonl" else read_json(data)
    except JsonError as exc:
        raise DataError(exc.where(str(path))) from None
    array = path.suffix.lower() != ".jsonl" and data.removeprefix(BOM).lstrip().startswith(b"[")
    where = "element" if array else "line"
    records: list[dict[str, Any]] = []
    unreadable: list[str] = []
    for number, value in rows:
        if isinstance(value, BadLine):
            problem = f"{where} {number}: {value.reason}"
        elif not isinstance(value, dict):
            problem = f"{where} {number}: {json_type(value)}, not a JSON object"
        else:
            records.append(value)
            continue
        unreadable.append(problem)
        records.append({UNREADABLE_COLUMN: problem})
    if records and len(unreadable) == len(records):
        shown = "; ".join(unreadable[:_MAX_EXAMPLES]) + ("; ..." if len(unreadable) > _MAX_EXAMPLES else "")
        raise DataError(f"{path}: no readable row ({len(unreadable)} unreadable: {shown})")
    # Every field of any record is a column (missing values are None), not only the first record's.
    names = dict.fromkeys(name for record in records for name in record)
    try:
        return Dataset.from_dict({name: [record.get(name) for record in records] for name in names})
    except Exception as exc:
        raise DataError(
            f"{path}: records do not share one type per field ({_one_line(exc)}); "
            "make every record use the same types"
        ) from exc


def _load_from_disk(path: Path, split: str) -> Dataset | DatasetDict:
    if not ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file()):
        raise DataError(
            f"{path}: folder is not a dataset saved with save_to_disk "
            "(no dataset_dict.json or state.json)"
        )
    try:
        return datasets.load_from_disk(str(path))
    except Exception as exc:
        raise DataError(f"{path}: cannot load saved dataset: {_one_line(exc)}") from exc


def _apply_split(data: Dataset | DatasetDict, split: str, path: Path, *, whole_file: bool) -> Dataset:
    """Resolve ``split`` (with slices, ``+``) against a local Dataset or DatasetDict."""
    parts = split.split("+")
    parsed = []
    for part in parts:
        m = _SPLIT_PART.match(part)
        if not m:
            raise DataError(f"{path}: invalid split {split!r}")
        parsed.append((m.group(1), m.group(2) or ""))

    if isinstance(data, DatasetDict):
        sizes = {name: ds.num_rows for name, ds in data.items()}
        for name, _ in parsed:
            if name not in data:
                raise DataError(
                    f"{path}: no split {name!r} (available: {', '.join(sorted(data)) or 'none'})"
                )
        pieces = {name: data[name] for name, _ in parsed}
        spec = split
    else:
        # A single file or a saved Dataset is one split; every split name refers to it.
        sizes = {"train": data.num_rows}
        pieces = {"train": data}
        spec = "+".join(f"train{sl}" for _, sl in parsed)
        if spec == "train":
            return data

    try:
        instructions = ReadInstruction.from_spec(spec).to_absolute(sizes)
    except Exception as exc:
        raise DataError(f"{path}: invalid split {split!r}: {_one_line(exc)} ({_rows_in(sizes, whole_file)})") from exc
    # `datasets` clamps a slice to the rows there are (`train[:1000]` of 10 rows is all 10), as
    # Python does; a slice left with no row at all (`train[100:]`) is a mistake, not an empty run.
    for part, ins in zip(parts, instructions, strict=True):
        if ins.to <= ins.from_:
            raise DataError(
                f"{path}: split {split!r} selects no rows: {part.strip()!r} starts past the end or ends "
                f"before it starts ({_rows_in(sizes, whole_file)})"
            )
    selected = [pieces[ins.splitname].select(range(ins.from_, ins.to)) for ins in instructions]
    if len(selected) == 1:
        return selected[0]
    try:
        return datasets.concatenate_datasets(selected)
    except Exception as exc:
        raise DataError(f"{path}: cannot combine splits {split!r}: {_one_line(exc)}") from exc


def _rows_in(sizes: dict[str, int], whole_file: bool) -> str:
    if whole_file:
        return f"the file has {sizes['train']} row{'' if sizes['train'] == 1 else 's'}"
    return ", ".join(f"split {name!r} has {count} row{'' if count == 1 else 's'}" for name, count in sizes.items())


def _load_hub(source: str, split: str, config: str | None) -> Dataset:
    from datasets import load_dataset  # lazy: only Hub ids need it

    try:
        ds = load_dataset(source, config, split=split)
    except Exception as exc:
        raise DataError(
            f"{source}: not a local file or folder, and loading it from the Hugging Face Hub "
            f"failed: {_one_line(exc)}"
        ) from exc
    if not isinstance(ds, Dataset):
        raise DataError(f"{source}: split {split!r} did not give a single dataset")
    return ds


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --------------------------------------------------------------------------------------------
# Preparing
# --------------------------------------------------------------------------------------------


@dataclass
class PrepareReport:
    """What :func:`prepare` kept and skipped."""

    rows_total: int = 0
    rows_usable: int = 0  # rows that passed validation (before ``max_samples``)
    rows_kept: int = 0  # rows in the returned dataset
    input_form: str = "none"  # "messages", "prompt" or "none"
    skipped: dict[str, int] = field(default_factory=dict)  # reason code -> count
    examples: dict[str, list[int]] = field(default_factory=dict)  # reason -> first row indices
    notes: list[str] = field(default_factory=list)

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    def _skip(self, reason: str, index: int) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        ex = self.examples.setdefault(reason, [])
        if len(ex) < _MAX_EXAMPLES:
            ex.append(index)

    def reasons_text(self) -> str:
        lines = []
        for reason, count in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
            rows = ", ".join(str(i) for i in self.examples.get(reason, []))
            more = ", ..." if count > len(self.examples.get(reason, [])) else ""
            lines.append(
                f"  {count} x {reason}: {SKIP_REASONS.get(reason, reason)} (rows {rows}{more})"
            )
        return "\n".join(lines)

    def summary(self) -> str:
        head = (
            f"dataset: {self.rows_kept} of {self.rows_total} rows kept "
            f"(input form: {self.input_form}; {self.rows_skipped} skipped"
        )
        if self.rows_usable != self.rows_kept:
            head += f"; limited from {self.rows_usable} usable rows by max_samples"
        head += ")"
        parts = [head]
        if self.skipped:
            parts.append("skipped rows:\n" + self.reasons_text())
        parts.extend(f"note: {n}" for n in self.notes)
        return "\n".join(parts)


def prepare(
    dataset: Dataset,
    system_prompt: str | None = None,
    max_samples: int | None = None,
    seed: int = 0,
) -> tuple[Dataset, PrepareReport]:
    """Give ``dataset`` the ``prompt`` (and ``reference``) columns GRPOTrainer expects.

    * ``messages`` form (no ``prompt`` column): ``prompt`` = the messages up to and including the
      last user turn; ``reference`` = the final assistant turn's content when the conversation
      ends with an assistant turn, else ``None``.  An existing ``reference`` column is kept.
    * ``prompt`` form (string or message list): passed through (a ``messages`` column, if also
      present, is kept as an ordinary column).
    * ``system_prompt``: prepended as a system message when the prompt has no system/developer
      message; string prompts then become ``[system, user]`` message lists.
    * ``max_samples``: keeps a seeded, deterministic subset of the usable rows, in original order.

    Other columns are kept.  Unusable rows are skipped and counted in the report.  Raises
    :class:`DataError` when no row is usable, ``ValueError`` for a bad ``max_samples``.
    """
    if max_samples is not None and (isinstance(max_samples, bool) or max_samples < 1):
        raise ValueError(f"max_samples must be a positive integer, got {max_samples!r}")
    if system_prompt is not None and not system_prompt.strip():
        system_prompt = None

    columns = set(dataset.column_names)
    report = PrepareReport(rows_total=dataset.num_rows)
    if "prompt" in columns:
        form = "prompt"
    elif "messages" in columns:
        form = "messages"
    else:
        form = "none"
    report.input_form = form

    # Pass 1: validate (one linear scan of the one column that matters).
    good: list[int] = []
    unreadable = dataset[UNREADABLE_COLUMN] if UNREADABLE_COLUMN in columns else [None] * dataset.num_rows
    values = dataset[form] if form != "none" else [None] * dataset.num_rows
    for i, (problem, value) in enumerate(zip(unreadable, values, strict=True)):
        if problem is not None:
            reason: str | None = "unreadable_row"
            if report.skipped.get("unreadable_row", 0) < _MAX_EXAMPLES:
                report.notes.append(problem)  # where in the file, and why
        elif form == "none":
            reason = "no_prompt_or_messages"
        else:
            reason = row_problem(form, value)
        if reason is None:
            good.append(i)
        else:
            report._skip(reason, i)
    report.rows_usable = len(good)

    if not good:
        raise DataError(
            f"dataset has no usable rows ({report.rows_total} rows, input form: {form}); "
            "every row was skipped:\n" + (report.reasons_text() or "  (dataset is empty)")
        )

    if max_samples is not None and max_samples < len(good):
        good = sorted(random.Random(seed).sample(good, max_samples))
    report.rows_kept = len(good)

    if form == "messages" and "reference" in columns:
        report.notes.append(
            "dataset already has a 'reference' column; it is kept and not derived from 'messages'"
        )

    subset = dataset if len(good) == dataset.num_rows else dataset.select(good)
    if UNREADABLE_COLUMN in columns:
        subset = subset.remove_columns(UNREADABLE_COLUMN)
    keep_reference = form == "messages" and "reference" not in columns

    def convert(row: Mapping[str, Any]) -> dict[str, Any]:
        if form == "messages":
            prompt, reference = _split_conversation(row["messages"])
            out: dict[str, Any] = {"prompt": _with_system(prompt, system_prompt)}
            if keep_reference:
                out["reference"] = reference
            return out
        return {"prompt": _with_system(row["prompt"], system_prompt)}

    needs_map = form == "messages" or system_prompt is not None
    if needs_map:
        subset = subset.map(convert, desc="preparing prompts")
    return subset, report


def row_problem(form: str, value: Any) -> str | None:
    """The reason code why a row's `prompt` or `messages` value (by `form`) is unusable, or None."""
    if value is None:
        return "no_prompt_or_messages"
    problem = prompt_problem(value) if form == "prompt" else conversation_problem(value)
    return problem.reason if problem else None


def _split_conversation(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str | None]:
    """(prompt messages up to and including the last user turn, the reply's final answer or None)."""
    prompt, reply = split_conversation(messages)
    return prompt, final_answer(reply)


def _with_system(prompt: Any, system_prompt: str | None) -> Any:
    if system_prompt is None:
        return prompt
    if isinstance(prompt, str):
        return [{"role": "system", "content": system_prompt}, {"role": "user", "content": prompt}]
    if any(m.get("role") in ("system", "developer") for m in prompt):
        return prompt
    # Give the new message the same keys as the others so Arrow keeps one struct type.
    system = dict.fromkeys(prompt[0]) if prompt else {}
    system.update(role="system", content=system_prompt)
    return [system, *prompt]
