"""`rewardc score --report FILE [--probe]`: the page's numbers, its escaping, and its errors.

The page is read back with the standard library's HTML parser here; tests/test_report_browser.py
opens it in headless Chromium. The numbers are compared with `--format json` and
`rewardc probe --format json` run separately on the same rows.
"""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import subprocess
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from report_data import HOSTILE, RULES, write_inputs
from rewardlang import cli
from rewardlang.report import correlation


class Page(HTMLParser):
    """Every start tag, each element's `data-*` attributes, and the text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []  # (tag, name, value) of every attribute
        self.values: list[dict[str, str]] = []  # the attributes of each element with `data-value`
        self.blocks: list[dict[str, str]] = []  # the attributes of each shown completion
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        found = {name: value or "" for name, value in attrs}
        if "data-value" in found:
            self.values.append(found)
        if found.get("class") == "completion":
            self.blocks.append(found)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def value(self, **wanted: str) -> Any:
        """The `data-value` (parsed as JSON) of the one element whose attributes are `wanted`."""
        keys = {f"data-{name.replace('_', '-')}": value for name, value in wanted.items()}
        found = [item for item in self.values if all(item.get(k) == v for k, v in keys.items())]
        assert len(found) == 1, (wanted, found)
        return json.loads(found[0]["data-value"])


Scored = tuple["Page", dict[str, Any], dict[str, Any], str]


def run_rewardc(*argv: str | Path) -> tuple[int, str, str]:
    """`rewardlang.cli.main(argv)` in-process: exit code, standard output, standard error."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Scored:
    """The page of `--report --probe`, the `--format json --explain` document, `rewardc probe`'s, the HTML
    (once for the module: the tests below only read them)."""
    spec, data = write_inputs(tmp_path_factory.mktemp("report"))
    report = data.parent / "report.html"
    code, _, err = run_rewardc("score", spec, "--data", data, "--report", report, "--probe")
    assert (code, err) == (0, "")
    code, as_json, err = run_rewardc("score", spec, "--data", data, "--format", "json", "--explain")
    assert code == 0, err
    code, probed, err = run_rewardc("probe", spec, "--data", data, "--format", "json")
    assert code == 1, err  # this little spec has shortcuts: the page shows which
    text = report.read_text(encoding="utf-8")
    return Page(text), json.loads(as_json), json.loads(probed), text


def test_summary_and_task_numbers_equal_the_json_output(scored: Scored):
    page, document, _, _ = scored
    summary = document["summary"]
    for rule in RULES:
        for field in ("mean", "min", "max", "none"):
            assert page.value(stat=f"rule:{rule}", field=field) == summary["rules"][rule][field], (rule, field)
    for field in ("mean", "min", "max", "none"):
        assert page.value(stat="total", field=field) == summary["total"][field]
    assert page.value(count="scored") == summary["scored"] == 7
    labels = [task["task"] for task in summary["tasks"]]
    assert labels == ["task=(other)", "task=math"]  # "chat" is not a value the spec names
    for task in summary["tasks"]:
        assert page.value(task=task["task"], field="task-rows") == task["rows"]
        for rule in RULES:
            assert page.value(task=task["task"], rule=rule, field="mean") == task["rules"][rule]["mean"]
            assert page.value(task=task["task"], rule=rule, field="rows") == task["rules"][rule]["rows"]


def test_best_and_worst_completions_carry_each_rules_score(scored: Scored):
    page, document, _, _ = scored
    rows = {row["row"]: row for row in document["rows"]}
    order = sorted(rows.values(), key=lambda row: (-row["total"], row["row"]))
    best, worst = order[:4], order[4:][::-1]  # 7 rows: the upper half, the middle one included, is "best"
    shown = [(item["data-group"], int(item["data-row"])) for item in page.blocks]
    assert shown == [("best", row["row"]) for row in best] + [("worst", row["row"]) for row in worst]
    for row in rows.values():
        assert page.value(row=str(row["row"]), field="total") == row["total"]
        for rule in RULES:
            assert page.value(row=str(row["row"]), rule=rule, field="score") == row["scores"][rule]


def test_the_reasons_of_a_shown_completion(scored: Scored):
    _, document, _, text = scored
    # The row-3 block (`<answer>4</answer>`): the reason `--explain` gives for each rule.
    block = text[text.index('<div class="completion" data-group="best" data-row="3">'):]
    shown = "".join(Page(block[: block.index("</div>")]).text)
    row = next(row for row in document["rows"] if row["row"] == 3)
    for rule in RULES:
        assert row["explanations"][rule] in shown, rule


def test_correlations_are_pearsons_r_and_undefined_for_a_constant_rule(
    scored: Scored,
):
    page, document, _, text = scored
    columns = {rule: [row["scores"][rule] for row in document["rows"]] for rule in RULES}
    for a in RULES:
        for b in RULES:
            pairs = [(x, y) for x, y in zip(columns[a], columns[b], strict=True) if x is not None and y is not None]
            xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
            constant = len(set(xs)) < 2 or len(set(ys)) < 2
            expected = None if constant else statistics.correlation(xs, ys)
            assert page.value(pair=f"{a}|{b}") == expected, (a, b)
    assert page.value(pair="brief|brief") == pytest.approx(1.0)
    assert page.value(pair="steady|brief") is None  # `steady` is 1 on every row
    assert "NaN" not in text
    assert all(item["data-value"].lower() not in ("nan", "infinity", "-infinity") for item in page.values)


def test_the_probe_results_equal_rewardc_probe(scored: Scored):
    page, _, probed, _ = scored
    assert page.value(probe="(honest)", field="total") == probed["honest"]["median"]
    for rule in RULES:
        assert page.value(probe="(honest)", rule=rule) == probed["honest"]["scores"][rule]
    assert probed["probes"]
    for item in probed["probes"]:
        assert page.value(probe=item["name"], field="total") == item["total"]
        for rule in RULES:
            assert page.value(probe=item["name"], rule=rule) == item["scores"][rule]


def test_a_hostile_completion_is_text_not_markup(scored: Scored):
    page, _, _, text = scored
    assert "img" not in page.tags
    assert page.tags.count("script") == 0
    assert HOSTILE in "".join(page.text)  # shown as written
    assert "Content-Security-Policy" in text and "default-src 'none'" in text


def test_the_page_is_self_contained(scored: Scored):
    _, _, _, text = scored
    page = Page(text)
    assert page.tags.count("svg") == 1 + len(RULES) + 1  # the total, each rule, the correlation matrix
    assert not {"script", "link", "img", "iframe", "object", "embed", "source", "audio", "video"} & set(page.tags)
    # Nothing to fetch: no `src`, and every link points inside the page: SVG's clip paths and glyphs
    # (`#id`), and the correlation matrix's pixels (a PNG data URI in its SVG).
    assert not [item for item in page.attributes if item[1] == "src"]
    links = [value for _, name, value in page.attributes if name in ("href", "xlink:href")]
    assert any(value.startswith("data:image/png;base64,") for value in links)
    assert all(value.startswith(("#", "data:image/png;base64,")) for value in links)


def test_correlation_of_too_few_or_constant_values_is_none():
    assert correlation([1.0, None, 0.5], [None, 1.0, 0.2]) is None  # no row where both scored twice
    assert correlation([1.0, 1.0, 1.0], [0.0, 0.5, 1.0]) is None
    assert correlation([0.0, 0.5, 1.0], [1.0, 0.5, 0.0]) == pytest.approx(-1.0)


def test_probe_needs_report_and_a_file(tmp_path: Path, rewardc: Callable[..., Any]):
    spec, data = write_inputs(tmp_path)
    result = rewardc("score", spec, "--data", data, "--probe")
    assert result.code == 2
    assert result.err == "rewardc: error: --probe adds probe results to the HTML report: use it with --report FILE\n"
    result = rewardc("score", spec, "--data", "-", "--report", tmp_path / "r.html", "--probe", stdin=data.read_bytes())
    assert result.code == 2
    assert result.err == "rewardc: error: --probe reads the data a second time: - must be a file, not a stream\n"
    assert not (tmp_path / "r.html").exists()


def test_a_report_from_standard_input_and_an_unwritable_path(tmp_path: Path, rewardc: Callable[..., Any]):
    spec, data = write_inputs(tmp_path)
    report = tmp_path / "r.html"
    result = rewardc("score", spec, "--data", "-", "--report", report, "--format", "jsonl", stdin=data.read_bytes())
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert len(lines) == 7 and all("explanations" not in line for line in lines)  # explained for the report only
    assert Page(report.read_text(encoding="utf-8")).value(count="scored") == 7
    result = rewardc("score", spec, "--data", data, "--report", tmp_path / "missing" / "r.html")
    assert result.code == 2
    assert result.err.startswith(f"rewardc: error: {tmp_path / 'missing' / 'r.html'}: cannot write the report: ")
    assert "Traceback" not in result.err


def test_without_matplotlib_the_error_names_the_pip_command(tmp_path: Path):
    spec, data = write_inputs(tmp_path)
    # matplotlib made unimportable in a fresh interpreter (None in sys.modules: `import` raises ImportError).
    code = (
        "import sys; sys.modules['matplotlib'] = None; from rewardlang import cli; "
        f"sys.exit(cli.main(['score', {str(spec)!r}, '--data', {str(data)!r}, '--report', "
        f"{str(tmp_path / 'r.html')!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr == (
        "rewardc: error: --report draws its plots with matplotlib, which is not installed: "
        "pip install 'rewardlang[report]'\n"
    )
    assert done.stdout == ""


def test_stdout_is_the_same_with_and_without_a_report(tmp_path: Path):
    spec, data = write_inputs(tmp_path)
    _, plain, _ = run_rewardc("score", spec, "--data", data, "--format", "json")
    report = tmp_path / "r.html"
    code, reported, err = run_rewardc("score", spec, "--data", data, "--format", "json", "--report", report)
    assert (code, err) == (0, "")
    assert reported == plain  # the report's explanations stay out of the JSON


def test_one_rule_without_tasks(tmp_path: Path):
    spec = tmp_path / "one.reward"
    spec.write_text('reward one\nrule brief: length 1..3 words\n', encoding="utf-8")
    data = tmp_path / "rows.jsonl"
    data.write_text('{"completion": "one two"}\n{"completion": "one two three four"}\n', encoding="utf-8")
    code, _, err = run_rewardc("score", spec, "--data", data, "--report", tmp_path / "r.html")
    assert (code, err) == (0, "")
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    page = Page(text)
    assert page.tags.count("svg") == 2  # the total and the rule: no matrix for one rule
    assert 'id="tasks"' not in text
    assert page.value(pair="brief|brief") == pytest.approx(1.0)
    assert [(item["data-group"], item["data-row"]) for item in page.blocks] == [("best", "1"), ("worst", "2")]
