"""Evidence a reviewer can see, drawn from a run folder: figures, the README's Results section,
the model card. `python -m <package> report [RUN]` (make report) calls these.

Figures are PNG on an opaque white background (readable in GitHub's light and dark modes), in a
colour-blind-safe palette, small enough to commit (`figures/`). The Results section sits between
two markers in README.md and is replaced whole on every report, so running it twice changes
nothing more than running it once. This file is the same in every mlstarter starter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURES = Path("figures")
RESULTS_BEGIN = (
    "<!-- results:begin (written by make report from a run; edits here are replaced) -->"
)
RESULTS_END = "<!-- results:end -->"
# Okabe-Ito: distinguishable with every common colour-vision deficiency, and on white.
BLUE, ORANGE, GREEN, VERMILION, PURPLE, GREY = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#666666",
)  # fmt: skip
MAX_PNG_BYTES = 400_000


def new_figure(width: float = 6.4, height: float = 3.6, **subplots: Any) -> tuple[Figure, Any]:
    """A figure in the shared style: white background, dark text, light grid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "axes.edgecolor": "#333333",
            "axes.labelcolor": "#222222",
            "text.color": "#222222",
            "xtick.color": "#333333",
            "ytick.color": "#333333",
            "axes.grid": True,
            "grid.color": "#dddddd",
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt.subplots(figsize=(width, height), **subplots)


def save_figure(fig: Figure, path: Path) -> Path:
    """Save as PNG (opaque white, 110 dpi) and close; refuse a file too large to commit."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not fig.get_layout_engine():
        fig.tight_layout()
    fig.savefig(path, dpi=110, facecolor="white", transparent=False)
    plt.close(fig)
    size = path.stat().st_size
    if size > MAX_PNG_BYTES:
        raise ValueError(f"{path} is {size // 1000} kB: too large for a README figure")
    return path


def learning_curve(
    history: Sequence[Mapping[str, Any]],
    x: str,
    series: Mapping[str, str],
    path: Path,
    title: str,
    ylabel: str,
    log_y: bool = False,
) -> Path:
    """Metrics over steps or epochs: one line per `series` entry (label -> history key)."""
    fig, ax = new_figure()
    colors = [BLUE, ORANGE, GREEN, VERMILION, PURPLE, GREY]
    drawn = 0
    for (label, key), color in zip(series.items(), colors, strict=False):
        points = [
            (row[x], row[key])
            for row in history
            if _is_number(row.get(x)) and _is_number(row.get(key))
        ]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(
                xs,
                ys,
                label=label,
                color=color,
                linewidth=1.8,
                marker="o" if len(xs) < 30 else None,
            )
            drawn += 1
    if not drawn:
        plt_close(fig)
        raise ValueError(f"the run's history has no {', '.join(series.values())} against {x}")
    if log_y:
        ax.set_yscale("log")
    if all(float(row[x]).is_integer() for row in history if _is_number(row.get(x))):
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.25 on a short run
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(frameon=False)
    return save_figure(fig, path)


def targets_chart(
    report: Mapping[str, Any], path: Path, title: str = "Targets of this run"
) -> Path:
    """One row per target: the run's value (a bar, green when met, vermilion when missed), the
    threshold it had to reach (a black line) and the same-run baseline the threshold comes from
    (an orange diamond), each row on its own scale."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    targets = report["targets"]
    metrics = report.get("metrics", {})
    fig, axes = new_figure(7.0, 1.1 + 0.8 * len(targets), nrows=len(targets), squeeze=False)
    label_box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"}
    for ax, (name, target) in zip(axes[:, 0], targets.items(), strict=True):
        value, threshold = target.get("value"), target["threshold"]
        baseline_name = baseline_of(target["source"])
        baseline = metrics.get(baseline_name) if baseline_name else None
        points = [float(v) for v in (value, threshold, baseline) if _is_number(v)]
        low, high = min([*points, 0.0]), max([*points, 0.0])
        pad = (high - low) * 0.08 or 1.0
        if _is_number(value):
            color = GREEN if target["met"] else VERMILION
            ax.barh([0], [value - low], left=low, height=0.45, color=color)
            # the value's label sits right of every mark of the row, so nothing covers it
            ax.annotate(_short(value), (high + pad * 0.6, 0), va="center", fontsize=9,
                        fontweight="bold")  # fmt: skip
        ax.plot([threshold, threshold], [-0.42, 0.42], color="#111111", linewidth=2.2)
        right_half = threshold > (low + high) / 2
        ax.annotate(f"target {target['op']} {_short(threshold)}", (threshold, 0.42),
                    xytext=(-3 if right_half else 3, 2), textcoords="offset points", fontsize=8,
                    ha="right" if right_half else "left", bbox=label_box)  # fmt: skip
        if _is_number(baseline):
            ax.plot([baseline], [0], marker="D", color=ORANGE, markeredgecolor="#111111",
                    markersize=7, linestyle="none")  # fmt: skip
            ax.annotate(f"{baseline_name} {_short(baseline)}", (baseline, -0.3), xytext=(0, -3),
                        textcoords="offset points", ha="center", va="top", fontsize=8,
                        bbox=label_box)  # fmt: skip
        ax.set_xlim(low - pad, high + pad * 6)
        ax.set_ylim(-1.0, 1.0)
        ax.set_yticks([0], [name])
        ax.grid(axis="y", visible=False)
    verdict = "all met" if report.get("ok") else "some missed"
    axes[0, 0].set_title(f"{title} ({verdict})")
    fig.legend(
        handles=[
            Patch(color=GREEN, label="value, met"),
            Patch(color=VERMILION, label="value, missed"),
            Line2D([], [], color="#111111", linewidth=2.2, label="target"),
            Line2D([], [], marker="D", color=ORANGE, markeredgecolor="#111111", linestyle="none",
                   label="baseline, same run"),  # fmt: skip
        ],
        loc="lower center", ncol=4, frameon=False, fontsize=8,
    )  # fmt: skip
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return save_figure(fig, path)


def _short(value: float) -> str:
    """A number for a chart label: 4 significant digits, large counts written out (85,760)."""
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"


def baseline_of(source: str) -> str | None:
    """The metric a `baseline:<metric> + <margin>` source names, else None (a citation)."""
    match = re.match(r"baseline:([A-Za-z0-9_.\-]+)", source)
    return match.group(1) if match else None


def results_section(
    run: Mapping[str, Any],
    figures: Sequence[tuple[Path, str]],
    readme_dir: Path,
    headline: Sequence[str] = (),
) -> str:
    """The Results section's text: the run's targets table, its headline metrics and figures."""
    report = run["report"]
    met = sum(1 for t in report["targets"].values() if t["met"])
    total = len(report["targets"])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    seed = run.get("config", {}).get("seed")
    lines = [
        f"Run `{run['name']}` of {stamp}"
        + (f", seed {seed}" if seed is not None else "")
        + f", {report['seconds']:.1f} s: **{met} of {total} targets met**.",
        "",
        "| target | value | needs | baseline | met | source |",
        "|---|---|---|---|---|---|",
    ]
    for name, target in report["targets"].items():
        baseline_name = baseline_of(target["source"])
        baseline = report.get("metrics", {}).get(baseline_name) if baseline_name else None
        baseline_text = f"{baseline_name} = {_fmt(baseline)}" if _is_number(baseline) else ""
        lines.append(
            f"| `{name}` | {_fmt(target['value'])} | {target['op']} {_fmt(target['threshold'])} "
            f"| {baseline_text} | {'yes' if target['met'] else '**no**'} | {target['source']} |"
        )
    shown = [name for name in headline if name in report.get("metrics", {})]
    if shown:
        lines += ["", "| metric | value |", "|---|---|"]
        lines += [f"| `{name}` | {_fmt(report['metrics'][name])} |" for name in shown]
    for path, alt in figures:
        lines += [
            "",
            f"![{alt}]({Path(path).resolve().relative_to(Path(readme_dir).resolve()).as_posix()})",
        ]
    return "\n".join(lines)


def write_results(readme: Path, section: str) -> bool:
    """Put `section` between the Results markers of the README; return whether it changed."""
    text = Path(readme).read_text(encoding="utf-8")
    if text.count(RESULTS_BEGIN) != 1 or text.count(RESULTS_END) != 1:
        raise ValueError(
            f"{readme} needs exactly one pair of Results markers ({RESULTS_BEGIN} ...)"
        )
    head, rest = text.split(RESULTS_BEGIN)
    _, tail = rest.split(RESULTS_END)
    updated = f"{head}{RESULTS_BEGIN}\n{section.strip()}\n{RESULTS_END}{tail}"
    if updated == text:
        return False
    Path(readme).write_text(updated, encoding="utf-8")
    return True


def parse_results(readme: Path) -> dict[str, dict[str, Any]]:
    """The targets table of the README's Results section, read back: name -> value, op,
    threshold, met (what a reviewer reads, so tests can compare it with the run)."""
    text = Path(readme).read_text(encoding="utf-8")
    section = text.split(RESULTS_BEGIN)[1].split(RESULTS_END)[0]
    found = {}
    for line in section.splitlines():
        match = re.match(
            r"\| `([^`]+)` \| ([^|]+) \| (>=|>|<=|<) ([^|]+) \| [^|]* \| (yes|\*\*no\*\*) \|", line
        )
        if match:
            name, value, op, threshold, met = match.groups()
            found[name] = {
                "value": _number(value),
                "op": op,
                "threshold": _number(threshold),
                "met": met == "yes",
            }
    return found


def write_model_card(
    path: Path,
    run: Mapping[str, Any],
    *,
    title: str,
    summary: str,
    intended_use: str,
    training_data: str,
    evaluation_data: str,
    limitations: str,
    metrics: Sequence[str] = (),
) -> Path:
    """MODEL_CARD.md in the sections of Hugging Face model cards, with the run's own numbers."""
    report = run["report"]
    env = run.get("environment", {})
    config = run.get("config", {})
    rows = [
        f"| `{name}` | {_fmt(report['metrics'][name])} |"
        for name in metrics
        if name in report["metrics"]
    ]
    targets = [
        f"| `{name}` | {_fmt(t['value'])} | {t['op']} {_fmt(t['threshold'])} "
        f"| {'yes' if t['met'] else 'no'} | {t['source']} |"
        for name, t in report["targets"].items()
    ]
    gpu = f", GPU {env['gpu']}" if env.get("gpu") else ""
    where = (
        f"From run `{run['name']}` (seed {config.get('seed', 'n/a')}, {report['seconds']:.1f} s "
        f"on {env.get('cpu_count', '?')} CPU cores{gpu}, Python {env.get('python', '?')})."
    )
    text = "\n".join(
        [
            f"# Model card: {title}",
            "",
            summary,
            "",
            "## Intended use",
            "",
            intended_use,
            "",
            "## Training data",
            "",
            training_data,
            "",
            "## Evaluation data",
            "",
            evaluation_data,
            "",
            "## Metrics",
            "",
            where,
            "",
            "| metric | value |",
            "|---|---|",
            *rows,
            "",
            "| target | value | needs | met | source |",
            "|---|---|---|---|---|",
            *targets,
            "",
            "## Limitations",
            "",
            limitations,
            "",
            "## How it was made",
            "",
            "Written by `make report` from the run folder (report.json, history.jsonl, "
            "config.json, environment.json); run it again after a new run to update this card.",
            "",
        ]
    )
    Path(path).write_text(text, encoding="utf-8")
    return Path(path)


def plt_close(fig: Figure) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fmt(value: Any) -> str:
    if not _is_number(value):
        return "n/a"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1:
        return f"{value:g}"
    return f"{value:.4g}"


def _number(text: str) -> float | None:
    text = text.strip()
    return None if text == "n/a" else float(text)
