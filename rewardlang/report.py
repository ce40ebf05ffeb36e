"""`rewardc score --report FILE`: one self-contained HTML page of a scoring run.

    rewardc score specs/chat.reward --data samples.jsonl --report report.html [--probe]

The page shows each rule's score histogram, the total's distribution, the rule-by-rule
correlation matrix, the best and worst completions with each rule's explanation, the
per-task means of a spec with `when` conditions, and `rewardc probe`'s results with
`--probe`. Its numbers are the ones `--format json` prints: the same `ScoreResult`
(`rewardlang.scoring`), rendered a second way; each number on the page carries its exact
value in a `data-value` attribute (the text shows it rounded), so a test can read the
page back.

Self-contained: the plots are matplotlib SVG written into the page, there is no script
at all, and a Content-Security-Policy forbids every fetch, so it opens offline and a
completion (hostile input: it is what a policy wrote) cannot run anything. Every string
from the data or the spec is HTML-escaped.

matplotlib is an optional extra (`pip install 'rewardlang[report]'`): `require_matplotlib`
says so before any scoring is done.
"""

from __future__ import annotations

import html
import io
import json
import statistics
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rewardlang.datafile import open_data
from rewardlang.probe.honest import read_honest

if TYPE_CHECKING:
    from rewardlang.probe.run import ProbeReport
    from rewardlang.rows import Row
    from rewardlang.scoring import ScoredRow, ScoreResult

SHOWN = 5  # best and worst completions shown
BINS = 20  # histogram bins, at most
INSTALL = "pip install 'rewardlang[report]'"


class ReportUnavailable(Exception):
    """matplotlib, which draws the plots, is not installed."""


def require_matplotlib() -> None:
    """Raise `ReportUnavailable` (naming the pip command) when matplotlib cannot be imported."""
    try:
        import matplotlib as mpl  # noqa: F401 - only whether it imports
    except ImportError as exc:
        raise ReportUnavailable(f"--report draws its plots with matplotlib, which is not installed: {INSTALL}") from exc


def honest_rows(path: str, data_format: str, limit: int | None) -> list[Row]:
    """The honest answers `rewardc probe --data PATH` compares with (read again: `--probe` needs a file)."""
    source = open_data(path, data_format)
    try:
        return read_honest(source, limit).rows
    finally:
        source.close()


# ------------------------------------------------------------------ numbers
def correlation(xs: Sequence[float | None], ys: Sequence[float | None]) -> float | None:
    """Pearson's r over the rows where both rules scored; None when it is undefined: fewer than two
    such rows, or a rule constant over them (a constant has no variance to correlate, and NaN is
    never shown)."""
    pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if x is not None and y is not None]
    if len(pairs) < 2:
        return None
    try:
        return statistics.correlation([x for x, _ in pairs], [y for _, y in pairs])
    except statistics.StatisticsError:  # a constant side
        return None


def correlations(rules: Sequence[str], rows: Sequence[ScoredRow]) -> dict[tuple[str, str], float | None]:
    """Every pair of rules (both orders, and each rule with itself) and their correlation over `rows`."""
    columns = {rule: [row.scores.get(rule) for row in rows] for rule in rules}
    return {(a, b): correlation(columns[a], columns[b]) for a in rules for b in rules}


def ranked(rows: Sequence[ScoredRow]) -> list[ScoredRow]:
    """Rows from the highest total to the lowest; equal totals in row order."""
    return sorted(rows, key=lambda row: (-row.total, row.number))


# ------------------------------------------------------------------ page
def render_report(
    result: ScoreResult, rows: Sequence[ScoredRow], data_name: str, probe: ProbeReport | None = None
) -> str:
    """The HTML page of a scoring run: `result` as `rewardlang.scoring.score` returned it, and its rows."""
    summary = result.summary()
    rules = result.rules
    parts = [
        _head(f"{result.spec} · {data_name}"),
        f"<h1>{_e(result.spec)} <small>· {_e(data_name)}</small></h1>",
        _overview(summary, result),
        _summary_section(summary, rules),
        _distributions(rules, rows),
        _correlation_section(rules, rows),
    ]
    if "tasks" in summary:
        parts.append(_task_section(summary["tasks"], rules))
    parts.append(_completions_section(rules, rows))
    if probe is not None:
        parts.append(_probe_section(probe))
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem; }
h1 small { font-weight: normal; color: #666; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .6rem 0; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: right; vertical-align: top; }
th:first-child, td:first-child, th.text, td.text { text-align: left; }
td.na { color: #999; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; }
figcaption { font-weight: 600; }
figure svg { width: 360px; height: auto; }
figure.wide svg { width: 520px; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f6f6; padding: .6rem; margin: .4rem 0;
      max-height: 16rem; overflow: auto; }
.completion { border: 1px solid #ddd; border-radius: 6px; padding: .6rem .9rem; margin: .8rem 0; }
.reaches { color: #b00020; font-weight: 600; }
.note { color: #444; max-width: 60rem; }
"""

# No script, no fetch of any kind: inline styles and the SVG drawn into the page only.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _head(title: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_POLICY}\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>"
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _number(value: float | None, attributes: str, digits: int = 3) -> str:
    """A table cell holding a number: the exact value (as JSON writes it) in `data-value`, rounded text."""
    if value is None:
        return f'<td class="na" {attributes} data-value="null">n/a</td>'
    shown = str(value) if isinstance(value, int) else f"{value:.{digits}f}"
    return f'<td {attributes} data-value="{_e(json.dumps(value))}">{shown}</td>'


def _a(**values: str) -> str:
    """HTML attributes `data-NAME="value"`, escaped."""
    return " ".join(f'data-{name.replace("_", "-")}="{_e(value)}"' for name, value in values.items())


def _overview(summary: dict[str, Any], result: ScoreResult) -> str:
    cells = [
        (f'<p>{_count("scored", summary["scored"])} rows scored of {_count("rows", summary["rows"])} read, '
        f'{_count("skipped", summary["skipped"])} skipped.')
    ]
    if "weights" in summary:
        weights = ", ".join(f"{_e(key)} = {value:.3f}" for key, value in summary["weights"].items())
        cells.append(f" Scheduled weights at step {summary['step']}: {weights}.")
    cells.append("</p>")
    return "".join(cells)


def _count(name: str, value: int) -> str:
    return f'<span data-count="{name}" data-value="{value}">{value}</span>'


def _summary_section(summary: dict[str, Any], rules: Sequence[str]) -> str:
    lines = [
        "<section id=\"summary\"><h2>Summary</h2>",
        ("<p class=\"note\">Each rule's mean, min and max are over the rows where it scored; "
        "<em>n/a</em> counts the rows where it does not apply.</p>"),
        "<table><thead><tr><th>rule</th><th>mean</th><th>min</th><th>max</th><th>n/a</th></tr></thead><tbody>",
    ]
    for name, key, stats in [
        *((rule, f"rule:{rule}", summary["rules"][rule]) for rule in rules),
        ("total", "total", summary["total"]),
    ]:
        cells = "".join(_number(stats[stat], _a(stat=key, field=stat)) for stat in ("mean", "min", "max", "none"))
        lines.append(f"<tr><th>{_e(name)}</th>{cells}</tr>")
    lines.append("</tbody></table></section>")
    return "\n".join(lines)


# ------------------------------------------------------------------ plots
def _svg(figure: Any, salt: str) -> str:
    """A matplotlib figure (built without pyplot: no global state, no GUI backend) as an inline <svg> element."""
    import matplotlib as mpl

    buffer = io.StringIO()
    # A fixed salt per figure: ids (clip paths) are stable from run to run, and distinct between the
    # figures of one page (they share one document).
    with mpl.rc_context({"svg.hashsalt": salt, "svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _histogram(values: Sequence[float], title: str, salt: str, color: str, width: float = 4.2) -> str:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, 2.6))
    axes = figure.subplots()
    low, high = min(values), max(values)
    # A constant rule: one thin bar at its value, in a window around it (not one bar as wide as the plot).
    window = (low, high) if high > low else (low - 0.5, high + 0.5)
    axes.hist(values, bins=BINS, range=window, color=color, edgecolor="white")
    axes.set_xlabel("score")
    axes.set_ylabel("rows")
    axes.set_title(title, fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure, salt)


def _distributions(rules: Sequence[str], rows: Sequence[ScoredRow]) -> str:
    totals = [row.total for row in rows]
    lines = [
        "<section id=\"distributions\"><h2>Distributions</h2>",
        ("<p class=\"note\">The total (what the trainer optimises), then each rule over the rows where it "
        "scored. A rule whose scores sit in one bar gives GRPO no signal to learn from on this data.</p>"),
        "<div class=\"plots\">",
        (f'<figure class="wide" data-plot="total"><figcaption>total</figcaption>'
        f'{_histogram(totals, "total", "total", "#3a6ea5", width=6.0)}</figure>'),
    ]
    for index, rule in enumerate(rules):
        values = [value for row in rows if (value := row.scores.get(rule)) is not None]
        if values:
            plot = _histogram(values, rule, f"rule-{index}", "#6a9f58")
        else:
            plot = "<p class=\"na\">n/a on every row: nothing to plot</p>"
        lines.append(f'<figure data-plot="rule:{_e(rule)}"><figcaption>{_e(rule)}</figcaption>{plot}</figure>')
    lines.append("</div></section>")
    return "\n".join(lines)


def _correlation_plot(rules: Sequence[str], matrix: dict[tuple[str, str], float | None]) -> str:
    import matplotlib as mpl
    import numpy as np
    from matplotlib.figure import Figure

    size = len(rules)
    values = np.zeros((size, size))
    undefined = np.zeros((size, size), dtype=bool)
    for i, a in enumerate(rules):
        for j, b in enumerate(rules):
            r = matrix[(a, b)]
            undefined[i, j] = r is None
            values[i, j] = 0.0 if r is None else r
    side = 1.6 + 0.55 * size
    figure = Figure(figsize=(side + 1.2, side))
    axes = figure.subplots()
    colormap = mpl.colormaps["RdBu_r"].with_extremes(bad="#d9d9d9")  # undefined: grey
    image = axes.imshow(np.ma.array(values, mask=undefined), cmap=colormap, vmin=-1, vmax=1)
    axes.set_xticks(range(size), list(rules), rotation=45, ha="right")
    axes.set_yticks(range(size), list(rules))
    for i in range(size):
        for j in range(size):
            if not undefined[i, j]:
                axes.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=8,
                          color="white" if abs(values[i, j]) > 0.6 else "black")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    return _svg(figure, "correlation")


def _correlation_section(rules: Sequence[str], rows: Sequence[ScoredRow]) -> str:
    matrix = correlations(rules, rows)
    lines = [
        "<section id=\"correlation\"><h2>How the rules move together</h2>",
        ("<p class=\"note\">Pearson correlation of two rules' scores over the rows where both scored. "
        "<strong>Near +1</strong>: the rules agree on every row, so one of them is <em>redundant</em> "
        "(it adds weight, not information). <strong>Near −1</strong>: the rules disagree, a "
        "<em>trade-off</em> the policy must balance (say, brevity against completeness); check that the "
        "weights say which side should win. <strong>Near 0</strong>: independent objectives. "
        "<em>n/a</em>: undefined, because a rule is constant over the rows (it gives no signal at all) or "
        "fewer than two rows have both scores.</p>"),
    ]
    if len(rules) > 1:
        lines.append(f'<figure class="wide" data-plot="correlation">{_correlation_plot(rules, matrix)}</figure>')
    header = "".join(f"<th>{_e(rule)}</th>" for rule in rules)
    lines.append(f"<table><thead><tr><th></th>{header}</tr></thead><tbody>")
    for a in rules:
        cells = "".join(_number(matrix[(a, b)], _a(pair=f"{a}|{b}"), digits=2) for b in rules)
        lines.append(f"<tr><th>{_e(a)}</th>{cells}</tr>")
    lines.append("</tbody></table></section>")
    return "\n".join(lines)


# ------------------------------------------------------------------ tables
def _task_section(tasks: Iterable[dict[str, Any]], rules: Sequence[str]) -> str:
    header = "".join(f"<th>{_e(rule)}</th>" for rule in rules)
    lines = [
        "<section id=\"tasks\"><h2>Per task</h2>",
        ("<p class=\"note\">Each rule's mean over the task's rows where it applies (and how many); "
        "<em>n/a</em> where it applies to none.</p>"),
        f"<table><thead><tr><th>task</th><th>rows</th>{header}</tr></thead><tbody>",
    ]
    for task in tasks:
        label = task["task"]
        cells = []
        for rule in rules:
            item = task["rules"][rule]
            cell = _number(item["mean"], _a(task=label, rule=rule, field="mean"))
            cells.append(cell.replace("</td>", f' <small data-task="{_e(label)}" data-rule="{_e(rule)}" '
                                      f'data-field="rows" data-value="{item["rows"]}">({item["rows"]})</small></td>'))
        lines.append(
            f"<tr><th>{_e(label)}</th>{_number(task['rows'], _a(task=label, field='task-rows'))}{''.join(cells)}</tr>"
        )
    lines.append("</tbody></table></section>")
    return "\n".join(lines)


def _completion(row: ScoredRow, rules: Sequence[str], group: str) -> str:
    explanations = row.explanations or {}
    lines = [
        f'<div class="completion" data-group="{group}" data-row="{row.number}">',
        (f'<p>row {row.number} · total <strong data-row="{row.number}" data-field="total" '
         f'data-value="{_e(json.dumps(row.total))}">{row.total:.3f}</strong></p>'),
        f"<pre>{_e(row.text)}</pre>",
        "<table><thead><tr><th>rule</th><th>score</th><th class=\"text\">why</th></tr></thead><tbody>",
    ]
    for rule in rules:
        cell = _number(row.scores.get(rule), _a(row=str(row.number), rule=rule, field="score"))
        lines.append(f'<tr><th>{_e(rule)}</th>{cell}<td class="text">{_e(explanations.get(rule, ""))}</td></tr>')
    lines.append("</tbody></table></div>")
    return "\n".join(lines)


def _completions_section(rules: Sequence[str], rows: Sequence[ScoredRow]) -> str:
    order = ranked(rows)
    # Up to SHOWN each; with fewer than 2 * SHOWN rows, the upper half (the middle row included) is "best".
    best = order[: min(SHOWN, (len(order) + 1) // 2)]
    worst = list(reversed(order[len(best):]))[:SHOWN]  # lowest first; no row is shown twice
    lines = [
        "<section id=\"completions\"><h2>Best and worst completions</h2>",
        (f"<p class=\"note\">The {len(best)} highest totals and the {len(worst)} lowest, with each rule's score "
        "and its reason (equal totals in row order).</p>"),
        "<h3>Best</h3>",
        *(_completion(row, rules, "best") for row in best),
    ]
    if worst:
        lines += ["<h3>Worst</h3>", *(_completion(row, rules, "worst") for row in worst)]
    lines.append("</section>")
    return "\n".join(lines)


def _probe_section(report: ProbeReport) -> str:
    honest = report.honest
    header = "".join(f"<th>{_e(rule)}</th>" for rule in report.rules)
    reaching = len(report.reaching)
    lines = [
        "<section id=\"probe\"><h2>Probes: shortcuts against honest answers</h2>",
        (f"<p class=\"note\">Shortcut completions built from the spec's own rules (<code>rewardc probe</code>), "
        f"scored against {honest.count} honest answers of the data: each score is the median over the rows. "
        f"A probe that <span class=\"reaches\">reaches</span> the honest median pays as much as honesty: "
        f"the policy will find it. {reaching} of {len(report.probes)} probes reach it.</p>"),
        f"<table><thead><tr><th>probe</th>{header}<th>total</th><th class=\"text\">verdict</th></tr></thead><tbody>",
        "<tr><th>honest (median)</th>"
        + "".join(_number(honest.scores.get(rule), _a(probe="(honest)", rule=rule), digits=2) for rule in report.rules)
        + _number(honest.median, _a(probe="(honest)", field="total"), digits=2)
        + "<td></td></tr>",
    ]
    for item in report.probes:
        verdict_class = "text reaches" if item.reaches else "text"
        cells = "".join(_number(item.scores.get(rule), _a(probe=item.name, rule=rule), digits=2)
                        for rule in report.rules)
        lines.append(
            f'<tr data-probe-row="{_e(item.name)}" data-reaches="{str(item.reaches).lower()}">'
            f'<th title="{_e(item.description)}">{_e(item.name)}</th>{cells}'
            f'{_number(item.total, _a(probe=item.name, field="total"), digits=2)}'
            f'<td class="{verdict_class}">{_e(item.verdict)}</td></tr>'
        )
    lines.append("</tbody></table></section>")
    return "\n".join(lines)
