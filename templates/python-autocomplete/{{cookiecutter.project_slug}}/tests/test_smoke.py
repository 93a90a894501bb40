"""The smoke run is a proof: it passes with the LSTM and fails when the LSTM is broken.

Every run here is the smoke itself: `run_smoke` (or the command line) with the smoke's own
settings and targets (`criteria.smoke_targets`). Only the model differs, injected through
`model_factory`, or the learning rate, so a broken model fails for being broken, not for a
smaller budget. About 80 s of CPU in all.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

# pytest puts tests/ on sys.path; mypy, whose path is src/, knows this file as tests.breakages
from breakages import BlindLSTM, NoMemoryLSTM, only_output_bias  # type: ignore[import-not-found]

from {{ cookiecutter.package_name }} import __main__ as cli
from {{ cookiecutter.package_name }}.criteria import SMOKE_LOSS_MARGIN, SMOKE_TOP1_MARGIN
from {{ cookiecutter.package_name }}.model import LSTMLanguageModel, ModelConfig
from {{ cookiecutter.package_name }}.smoke import SmokeSettings, run_smoke

SMOKE = SmokeSettings()
README = Path(__file__).resolve().parents[1] / "README.md"


def last_line_report(out: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


def test_the_smoke_passes_and_prints_its_report_last(capsys, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a fresh repo: its README, no runs/ yet
    shutil.copy(README, tmp_path / "README.md")
    code = cli.main(["smoke"])
    report = last_line_report(capsys.readouterr().out)
    run = tmp_path / "runs" / "smoke"

    assert code == 0 and report["ok"] is True
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    metrics, targets = report["metrics"], report["targets"]
    assert set(targets) == {"top1_over_bigram", "loss_under_bigram"}
    assert targets["top1_over_bigram"]["source"] == f"baseline:bigram_top1 + {SMOKE_TOP1_MARGIN:g}"
    assert targets["loss_under_bigram"]["source"] == f"baseline:bigram_loss - {SMOKE_LOSS_MARGIN:g}"
    # the baselines were measured in this run, on the same held-out tokens, and rank as
    # they must: the bigram reads one token more than the unigram
    assert metrics["split"] == "test"
    assert metrics["bigram_top1"] > metrics["unigram_top1"] + 0.1
    assert metrics["bigram_loss"] < metrics["unigram_loss"] - 0.5
    assert metrics["fourgram_top1"] > metrics["bigram_top1"]
    assert (run / "model.pt").is_file()
    assert json.loads((run / "report.json").read_text()) == report
    assert len((run / "history.jsonl").read_text().splitlines()) == SMOKE.steps
    assert json.loads((run / "config.json").read_text())["seed"] == SMOKE.seed

    # ... and then has something to show: `make smoke && make report`
    assert cli.main(["report"]) == 0
    made = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert made["run"] == str(Path("runs") / "smoke") and len(made["figures"]) == 3
    assert all(Path(figure).stat().st_size > 10_000 for figure in made["figures"])
    assert "**2 of 2 targets met**" in Path("README.md").read_text()
    assert Path("MODEL_CARD.md").is_file()


def test_a_missed_target_exits_1_with_the_report_still_printed(capsys, tmp_path: Path):
    code = cli.main(["smoke", "--out", str(tmp_path), "--steps=0"])  # never trained
    report = last_line_report(capsys.readouterr().out)
    assert code == 1 and report["ok"] is False
    assert report["targets"]["top1_over_bigram"]["met"] is False


@pytest.mark.parametrize(
    ("name", "factory", "settings"),
    [
        ("never learns: learning rate 0", LSTMLanguageModel, replace(SMOKE, lr=0.0)),
        ("learns token frequencies only", only_output_bias, SMOKE),
        ("state cut between tokens", NoMemoryLSTM, SMOKE),
        ("input ignored", BlindLSTM, SMOKE),
    ],
)
def test_a_broken_model_fails_the_smoke(name, factory, settings, tmp_path: Path):
    report = run_smoke(tmp_path, settings, model_factory=factory)
    assert report["ok"] is False, name
    # each misses both targets: none reads more than the current token
    assert not any(target["met"] for target in report["targets"].values()), name


def test_the_broken_models_are_broken_as_claimed():
    config = ModelConfig(vocab_size=50, embedding_dim=8, hidden_size=16, dropout=0.0)
    torch.manual_seed(0)
    ids = torch.randint(2, 50, (2, 6))
    earlier_changed = ids.clone()
    earlier_changed[:, :-1] = (ids[:, :-1] - 2 + 1) % 48 + 2  # every token but the last
    no_memory = NoMemoryLSTM(config).eval()
    full = LSTMLanguageModel(config).eval()
    full.load_state_dict(no_memory.state_dict())

    def last(model: LSTMLanguageModel, batch: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = model(batch)[0]
        return logits[:, -1]

    # cut state: the last prediction depends on the last token only; the full LSTM's does not
    assert torch.allclose(last(no_memory, ids), last(no_memory, earlier_changed))
    assert not torch.allclose(last(full, ids), last(full, earlier_changed))
    # blind: no prediction depends on the input at all
    blind = BlindLSTM(config).eval()
    assert torch.allclose(blind(ids)[0], blind(torch.randint(2, 50, (2, 6)))[0])
    # frequencies only: the output bias is the one trainable parameter
    trainable = [n for n, p in only_output_bias(config).named_parameters() if p.requires_grad]
    assert trainable == ["output_bias"]
