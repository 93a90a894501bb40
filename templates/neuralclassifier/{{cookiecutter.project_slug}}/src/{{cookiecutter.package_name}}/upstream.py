"""Tencent NeuralClassifier, used as it is: cloned at a pinned commit, driven by a config.

NeuralClassifier has no package on PyPI. ``clone`` fetches the repository at ``COMMIT`` into
``third_party/``; ``build_config`` writes the JSON config its ``train.py``, ``eval.py`` and
``predict.py`` read, with guards for the ways a hand-written config breaks:

* ``device`` is ``cpu`` unless asked otherwise and ``data.num_worker`` is 0;
* ``eval.top_k`` is at most the number of labels (``predict.py`` and the evaluator index the
  ``top_k`` best labels and fail with IndexError past the end);
* HMCN runs with ``task_info.hierarchical`` false (its own hierarchy is in the model: the
  penalty code path expects a single logits tensor and fails on HMCN's three), and its
  ``hierarchical_depth`` / ``global2local`` lists match the depth of the label tree;
* at least 2 epochs: ``train.py`` copies the checkpoint of the best epoch, and when the dev F1
  never rises above 0 that is ``<model>_-1``, which does not exist;
* every dev and test document has a label seen in training (else ``Label is empty``).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data import Document, read_corpus, unseen_label_problems
from .published import rcv1_targets
from .runs import RUNS, RunFolder, atomic_directory
from .targets import build_report
from .taxonomy import Taxonomy, level

log = logging.getLogger(__name__)

URL = "https://github.com/Tencent/NeuralNLP-NeuralClassifier.git"
COMMIT = "3d4ddffa6304da32c25f74001c0c056922c4ba22"  # master, 2025-07-07 (code as of 2023-09)
DEFAULT_DIR = Path("third_party/NeuralNLP-NeuralClassifier")
DEFAULT_MODEL = "{{ cookiecutter.upstream_model }}"
DEFAULT_DEVICE = "{{ cookiecutter.device }}"
UPSTREAM_SEED = 2019  # torch.manual_seed in upstream train.py
MODELS = (
    "FastText",
    "TextCNN",
    "TextRNN",
    "TextRCNN",
    "DRNN",
    "TextVDCNN",
    "DPCNN",
    "AttentiveConvNet",
    "RegionEmbedding",
    "Transformer",
    "HMCN",
)
SPLITS = ("train", "dev", "test")
RCV1 = {  # the RCV1 sample that ships in the upstream repository (paths inside the clone)
    "train": "data/rcv1_train.hierar.json",
    "dev": "data/rcv1_dev.hierar.json",
    "test": "data/rcv1_test.hierar.json",
    "taxonomy": "data/rcv1.taxonomy",
}


class UpstreamError(RuntimeError):
    """Cloning, configuring or running NeuralClassifier failed; the message says why."""


def _git(args: Sequence[str], cwd: Path) -> str:
    git = shutil.which("git")
    if git is None:
        raise UpstreamError("git is not installed; install it to clone NeuralClassifier")
    proc = subprocess.run([git, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise UpstreamError(f"git {' '.join(args)} failed in {cwd}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def source() -> tuple[str, str]:
    """Where ``clone`` fetches from: ``URL`` at ``COMMIT``, unless the environment says otherwise.

    ``NEURALCLASSIFIER_URL`` and ``NEURALCLASSIFIER_COMMIT`` point the real commands at another
    repository (a mirror, a fork, or the local stand-in the rehearsal tests use).
    """
    return (
        os.environ.get("NEURALCLASSIFIER_URL") or URL,
        os.environ.get("NEURALCLASSIFIER_COMMIT") or COMMIT,
    )


def clone(
    dest: str | Path = DEFAULT_DIR, url: str | None = None, commit: str | None = None
) -> Path:
    """Check out ``url`` at ``commit`` into ``dest`` (shallow); reuse ``dest`` if already there.

    The clone is made in a hidden folder beside ``dest`` and renamed into place once the pinned
    commit is checked out, so a failed fetch leaves nothing behind that blocks the next try.
    ``url`` and ``commit`` default to ``source()``. Raises UpstreamError if ``dest`` holds
    another commit, a broken clone or unrelated files (the message says what to remove), or
    git fails (with the errors of both fetch attempts).
    """
    default_url, default_commit = source()
    url, commit = url or default_url, commit or default_commit
    dest = Path(dest)
    if (dest / ".git").exists():
        try:
            head = _git(["rev-parse", "--verify", "HEAD"], dest)
        except UpstreamError as error:
            raise UpstreamError(
                f"{dest} is a clone without a checked-out commit (left by an interrupted clone "
                f"of an older version of this repo): remove it (rm -rf {dest}) and run "
                f"'upstream clone' again. git said: {error}"
            ) from error
        if head != commit:
            raise UpstreamError(
                f"{dest} is at commit {head[:12]}, not the pinned {commit[:12]}; "
                f"remove the folder (rm -rf {dest}) or pass another --upstream-dir"
            )
        return dest
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UpstreamError(
            f"{dest} exists and is not a NeuralClassifier clone; pass another --upstream-dir"
        )
    with atomic_directory(dest) as staging:
        _git(["init", "-q"], staging)
        _git(["remote", "add", "origin", url], staging)
        try:
            _git(["fetch", "-q", "--depth", "1", "origin", commit], staging)
            _git(["checkout", "-q", "--detach", "FETCH_HEAD"], staging)
        except UpstreamError as first:  # a server that refuses fetching by commit: take history
            try:
                _git(["fetch", "-q", "origin"], staging)
                _git(["checkout", "-q", "--detach", commit], staging)
            except UpstreamError as second:
                raise UpstreamError(
                    f"could not fetch {url} at {commit}; nothing was left at {dest}.\n"
                    f"  fetching the commit: {first}\n  fetching the history: {second}"
                ) from second
        head = _git(["rev-parse", "HEAD"], staging)
        if head != commit:
            raise UpstreamError(f"checked out {head}, expected {commit}")
    return dest


@dataclass(frozen=True)
class LabelStats:
    """Distinct training labels (NeuralClassifier's label map) and how many per level."""

    num_labels: int
    per_level: tuple[int, ...]


def _stats(docs: Sequence[Document]) -> LabelStats:
    labels = {label for doc in docs for label in doc.labels}
    depth = max((level(x) for x in labels), default=0)
    per_level = tuple(sum(1 for x in labels if level(x) == k) for k in range(1, depth + 1))
    return LabelStats(len(labels), per_level)


def label_stats(train_files: Sequence[str | Path]) -> LabelStats:
    """Count the labels NeuralClassifier will build its label map from (training files only)."""
    return _stats([doc for path in train_files for doc in read_corpus(path)])


class ConfigError(ValueError):
    """A config that NeuralClassifier would crash on; the message says which guard and why."""


def build_config(
    *,
    train: Sequence[str | Path],
    dev: Sequence[str | Path],
    test: Sequence[str | Path],
    taxonomy: str | Path,
    run_dir: str | Path,
    model: str = DEFAULT_MODEL,
    hierarchical: bool = True,
    epochs: int = 5,
    batch_size: int = 64,
    learning_rate: float = 0.008,
    device: str = DEFAULT_DEVICE,
    top_k: int = 100,
    threshold: float = 0.5,
    max_token_len: int = 256,
    min_token_count: int = 2,
    embedding_dim: int = 64,
    pretrained_embedding: str | Path | None = None,
    hierar_penalty: float = 1e-6,
    check_splits: bool = True,
) -> dict[str, Any]:
    """A complete NeuralClassifier config (the schema of upstream ``conf/train.json``).

    Paths are made absolute, so the scripts can run from any folder. Raises ConfigError when a
    guard fails (see the module docstring) and FormatError when a data file is malformed.
    """
    if model not in MODELS:
        raise ConfigError(f"model {model!r} is not one of {', '.join(MODELS)}")
    if epochs < 2:
        raise ConfigError(
            "use at least 2 epochs: train.py copies the best epoch's checkpoint, and if the "
            "dev F1 never rises above 0 it looks for '<model>_-1', which does not exist"
        )
    if not device.startswith(("cpu", "cuda")):
        raise ConfigError(f"device must be 'cpu' or 'cuda[:N]', not {device!r}")
    files = {"train": list(train), "dev": list(dev), "test": list(test), "taxonomy": [taxonomy]}
    for role, paths in files.items():
        if not paths:
            raise ConfigError(f"no {role} file given")
        for path in paths:
            if not Path(path).is_file():
                raise ConfigError(f"{role} file {path} does not exist")
    # Every file is checked against the taxonomy: FormatError / TaxonomyError name file and line.
    tax = Taxonomy.read(taxonomy)
    docs = {role: {path: read_corpus(path, tax) for path in files[role]} for role in SPLITS}
    train_docs = [doc for chunk in docs["train"].values() for doc in chunk]
    stats = _stats(train_docs)
    if check_splits:
        problems = [
            problem
            for role in ("dev", "test")
            for path, chunk in docs[role].items()
            for problem in unseen_label_problems(train_docs, chunk, path)
        ]
        if problems:
            shown = "\n".join(str(p) for p in problems[:5])
            raise ConfigError(
                f"{len(problems)} dev/test documents have no label seen in training; "
                f"NeuralClassifier stops with 'Label is empty' on them:\n{shown}"
            )
    if model == "HMCN" and hierarchical:
        log.warning("HMCN models the hierarchy itself: writing task_info.hierarchical = false")
        hierarchical = False
    if model == "HMCN" and len(train_docs) % batch_size == 1:
        # HMCN has BatchNorm layers, which fail on a last training batch of one document.
        batch_size += 1
        log.warning("HMCN: batch_size raised to %d so that no batch holds one document", batch_size)
    run = Path(run_dir).resolve()
    absolute = [str(Path(p).resolve()) for p in files["train"]]
    depth = len(stats.per_level)
    return {
        "task_info": {
            "label_type": "multi_label",
            "hierarchical": hierarchical,
            "hierar_taxonomy": str(Path(taxonomy).resolve()),
            "hierar_penalty": hierar_penalty,
        },
        "device": device,
        "model_name": model,
        "checkpoint_dir": str(run / "checkpoints"),
        "model_dir": str(run / "trained_model"),
        "data": {
            "train_json_files": absolute,
            "validate_json_files": [str(Path(p).resolve()) for p in files["dev"]],
            "test_json_files": [str(Path(p).resolve()) for p in files["test"]],
            "generate_dict_using_json_files": True,
            # The dictionaries (tokens, chars, labels) come from the training files only: with
            # this true, upstream also counts the dev and test tokens, so held-out words get ids
            # (and pretrained vectors) picked by looking at the held-out data.
            "generate_dict_using_all_json_files": False,
            "generate_dict_using_pretrained_embedding": False,
            "generate_hierarchy_label": True,
            "dict_dir": str(run / "dict"),
            "num_worker": 0,
        },
        "feature": {
            "feature_names": ["token"],
            "min_token_count": min_token_count,
            "min_char_count": 2,
            "token_ngram": 0,
            "min_token_ngram_count": 0,
            "min_keyword_count": 0,
            "min_topic_count": 2,
            "max_token_dict_size": 1000000,
            "max_char_dict_size": 150000,
            "max_token_ngram_dict_size": 10000000,
            "max_keyword_dict_size": 100,
            "max_topic_dict_size": 100,
            "max_token_len": max_token_len,
            "max_char_len": 1024,
            "max_char_len_per_token": 4,
            "token_pretrained_file": str(Path(pretrained_embedding).resolve())
            if pretrained_embedding
            else "",
            "keyword_pretrained_file": "",
        },
        "train": {
            "batch_size": batch_size,
            "start_epoch": 1,
            "num_epochs": epochs,
            "num_epochs_static_embedding": 0,
            "decay_steps": 1000,
            "decay_rate": 1.0,
            "clip_gradients": 100.0,
            "l2_lambda": 0.0,
            "loss_type": "BCEWithLogitsLoss",
            "sampler": "fixed",
            "num_sampled": 5,
            "visible_device_list": "0",
            "hidden_layer_dropout": 0.5,
        },
        "embedding": {
            "type": "embedding",
            "dimension": embedding_dim,
            "region_embedding_type": "context_word",
            "region_size": 5,
            "initializer": "uniform",
            "fan_mode": "FAN_IN",
            "uniform_bound": 0.25,
            "random_stddev": 0.01,
            "dropout": 0.0,
        },
        "optimizer": {
            "optimizer_type": "Adam",
            "learning_rate": learning_rate,
            "adadelta_decay_rate": 0.95,
            "adadelta_epsilon": 1e-08,
        },
        "TextCNN": {"kernel_sizes": [2, 3, 4], "num_kernels": 100, "top_k_max_pooling": 1},
        "TextRNN": {
            "hidden_dimension": 64,
            "rnn_type": "GRU",
            "num_layers": 1,
            "doc_embedding_type": "Attention",
            "attention_dimension": 16,
            "bidirectional": True,
        },
        "DRNN": {
            "hidden_dimension": 5,
            "window_size": 3,
            "rnn_type": "GRU",
            "bidirectional": True,
            "cell_hidden_dropout": 0.1,
        },
        "eval": {
            "text_file": str(Path(files["test"][0]).resolve()),
            "threshold": threshold,
            "dir": str(run / "eval"),
            "batch_size": 1024,
            "is_flat": True,
            "top_k": min(top_k, stats.num_labels),
            "model_dir": str(run / "checkpoints" / f"{model}_best"),
        },
        "TextVDCNN": {"vdcnn_depth": 9, "top_k_max_pooling": 8},
        "DPCNN": {"kernel_size": 3, "pooling_stride": 2, "num_kernels": 16, "blocks": 2},
        "TextRCNN": {
            "kernel_sizes": [2, 3, 4],
            "num_kernels": 100,
            "top_k_max_pooling": 1,
            "hidden_dimension": 64,
            "rnn_type": "GRU",
            "num_layers": 1,
            "bidirectional": True,
        },
        "Transformer": {
            "d_inner": 128,
            "d_k": 32,
            "d_v": 32,
            "n_head": 4,
            "n_layers": 1,
            "dropout": 0.1,
            "use_star": True,
        },
        "AttentiveConvNet": {
            "attention_type": "bilinear",
            "margin_size": 3,
            "type": "advanced",
            "hidden_size": 64,
        },
        "HMCN": {
            "hierarchical_depth": [0] + [384] * depth,
            "global2local": [0, *stats.per_level],
        },
        "log": {"logger_file": str(run / "neuralclassifier.log"), "log_level": "warn"},
    }


def write_config(config: dict[str, Any], path: str | Path) -> Path:
    """Write ``config`` as indented JSON and create the run folder it points at."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def retarget_test(config_path: str | Path, test_file: str | Path) -> Path:
    """A copy of the config (``config.eval.json`` beside it) that evaluates ``test_file``."""
    config_path, test_file = Path(config_path), Path(test_file).resolve()
    if not config_path.is_file():
        raise UpstreamError(f"config {config_path} not found: train first")
    if not test_file.is_file():
        raise UpstreamError(f"test file {test_file} does not exist")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["data"]["test_json_files"] = [str(test_file)]
    config["eval"]["text_file"] = str(test_file)
    return write_config(config, config_path.with_name("config.eval.json"))


def _check_runtime() -> None:
    # NeuralClassifier's evaluator and predict.py import numpy; this package never does.
    if importlib.util.find_spec("numpy") is None:
        raise UpstreamError("NeuralClassifier needs numpy (a dependency here): make setup")


def run_script(
    script: str, config_path: str | Path, clone_dir: str | Path = DEFAULT_DIR, *extra: str
) -> int:
    """Run ``train.py``, ``eval.py`` or ``predict.py`` of the clone on ``config_path``.

    The working directory is the config's folder (upstream writes ``probs.txt`` and
    ``predict.txt`` there). Returns the script's exit status; raises UpstreamError if the
    clone or the config is missing, or a trained model is missing afterwards.
    """
    clone_dir, config_path = Path(clone_dir).resolve(), Path(config_path).resolve()
    if script not in ("train.py", "eval.py", "predict.py"):
        raise UpstreamError(f"unknown script {script!r}")
    if not (clone_dir / script).is_file():
        raise UpstreamError(f"{clone_dir / script} not found: run the 'upstream clone' command")
    if not config_path.is_file():
        raise UpstreamError(f"config {config_path} not found: run the 'upstream config' command")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if script == "predict.py" and config["model_name"] == "HMCN":
        raise UpstreamError("NeuralClassifier's predict.py does not know HMCN; use eval.py")
    if script != "train.py" and not Path(config["eval"]["model_dir"]).is_file():
        raise UpstreamError(f"no trained model at {config['eval']['model_dir']}: train first")
    _check_runtime()
    cmd = [sys.executable, str(clone_dir / script), str(config_path), *extra]
    log.info("running %s (in %s)", " ".join(cmd), config_path.parent)
    code = subprocess.run(cmd, cwd=config_path.parent, check=False).returncode
    if script == "train.py" and not Path(config["eval"]["model_dir"]).is_file():
        raise UpstreamError(
            f"train.py exited with {code} and wrote no {config['eval']['model_dir']}. If its "
            "traceback names a checkpoint ending in '_-1', the dev F1 never rose above 0: "
            "train for more epochs or lower eval.threshold"
        )
    return code


# The first two lines of the "all_prf" file that upstream eval.py writes into eval.dir.
_PRF = re.compile(
    r"^(macro|micro)_average, precision: ([-+.\deE]+), recall: ([-+.\deE]+), fscore: ([-+.\deE]+)"
)


def read_prf(path: str | Path) -> dict[str, float]:
    """Overall scores from upstream's ``all_prf`` file (labels as written, every level).

    Returns ``micro_f1``, ``macro_f1``, ``micro_precision``, ``micro_recall``,
    ``macro_precision``, ``macro_recall``. Raises UpstreamError if the file is missing or
    lacks the two average lines.
    """
    path = Path(path)
    if not path.is_file():
        raise UpstreamError(f"{path} not found: eval.py writes it; did it run?")
    found: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PRF.match(line.strip())
        if match:
            kind, precision, recall, fscore = match.groups()
            found[f"{kind}_precision"] = float(precision)
            found[f"{kind}_recall"] = float(recall)
            found[f"{kind}_f1"] = float(fscore)
    if "micro_f1" not in found or "macro_f1" not in found:
        raise UpstreamError(f"{path}: no 'micro_average' and 'macro_average' lines")
    return found


def read_eval_dir(eval_dir: str | Path) -> dict[str, float]:
    """Every score upstream ``eval.py`` saved in ``eval_dir`` (its ``*_prf`` files), as metrics.

    ``all_prf`` gives ``raw_micro_f1``, ``raw_macro_f1`` and their precision and recall;
    ``level_<k>_prf`` (written when ``eval.is_flat`` is false) gives ``raw_level_<k>_micro_f1``
    and ``raw_level_<k>_macro_f1``. All are upstream's as-written scores (``raw_``): they never
    share a name with this repo's closed scores (``micro_f1``, ``level_<k>_micro_f1``).
    """
    eval_dir = Path(eval_dir)
    prf = read_prf(eval_dir / "all_prf")
    out = {f"raw_{key}": value for key, value in prf.items()}
    for path in sorted(eval_dir.glob("level_*_prf")):
        k = path.name.removeprefix("level_").removesuffix("_prf")
        if k.isdigit():
            level_prf = read_prf(path)
            out[f"raw_level_{k}_micro_f1"] = level_prf["micro_f1"]
            out[f"raw_level_{k}_macro_f1"] = level_prf["macro_f1"]
    return out


_NUMBER = r"([-+.\w]+)"  # %f of upstream: digits, or nan / inf
# train.py, once per stage and epoch (the message spans two lines of the log):
#   "Validate performance at epoch 3 is precision: ..., recall: ..., fscore: ...,
#    macro-fscore: ..., right: ..., predict: ..., standard: ...." then "Loss is: ...".
_EPOCH = re.compile(
    rf"(Train|Validate|test|Best test) performance at epoch (-?\d+) is precision: {_NUMBER}, "
    rf"recall: {_NUMBER}, fscore: {_NUMBER}, macro-fscore: {_NUMBER}"
)
_LOSS = re.compile(rf"^Loss is: {_NUMBER}")
# eval.py: "Performance is precision: ..., recall: ..., fscore: ..., right: ..., ..."
_EVAL = re.compile(rf"Performance is precision: {_NUMBER}, recall: {_NUMBER}, fscore: {_NUMBER}")


def _float(text: str) -> float:
    return float(text.rstrip(".,"))


@dataclass
class UpstreamLog:
    """What upstream's log says: per-epoch scores, the best epoch's test score, eval's score."""

    epochs: list[dict[str, Any]]
    best: dict[str, Any]
    eval_micro_f1: float | None


def read_log(path: str | Path, start: int = 0) -> UpstreamLog:
    """Parse upstream's log (``log.logger_file``) from byte ``start`` on.

    The log is appended to by every run; ``start`` is its size before the run being read.
    Each epoch becomes one history row: ``epoch`` and ``<stage>_micro_f1``,
    ``<stage>_macro_f1``, ``<stage>_precision``, ``<stage>_recall``, ``<stage>_loss`` for the
    stages ``train``, ``validate`` (the dev split) and ``test``. A missing log reads as empty.
    """
    path = Path(path)
    text = ""
    if path.is_file():
        with path.open("rb") as handle:
            handle.seek(start)
            text = handle.read().decode("utf-8", errors="replace")
    rows: dict[int, dict[str, Any]] = {}
    best: dict[str, Any] = {}
    eval_micro: float | None = None
    last: dict[str, Any] | None = None
    prefix = ""
    for line in text.splitlines():
        if match := _EPOCH.search(line):
            stage, epoch = match.group(1).lower().replace(" ", "_"), int(match.group(2))
            precision, recall, micro, macro = (_float(x) for x in match.groups()[2:])
            last = best if stage == "best_test" else rows.setdefault(epoch, {"epoch": epoch})
            prefix = "test_" if stage == "best_test" else f"{stage}_"
            if stage == "best_test":
                best["epoch"] = epoch
            last.update(
                {
                    f"{prefix}micro_f1": micro,
                    f"{prefix}macro_f1": macro,
                    f"{prefix}precision": precision,
                    f"{prefix}recall": recall,
                }
            )
        elif (match := _LOSS.search(line.strip())) and last is not None:
            last[f"{prefix}loss"] = _float(match.group(1))
            last = None
        elif match := _EVAL.search(line):
            eval_micro = _float(match.group(3))
    return UpstreamLog([rows[k] for k in sorted(rows)], best, eval_micro)


def log_size(config_path: str | Path) -> int:
    """The size of the config's upstream log now (where the next run's lines will start)."""
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    path = Path(config["log"]["logger_file"])
    return path.stat().st_size if path.is_file() else 0


def eval_report(config_path: str | Path, started: float, log_start: int = 0) -> dict[str, Any]:
    """The report of an upstream run: ``eval.py``'s scores against the README's table.

    Reads every ``*_prf`` file in the config's ``eval.dir`` (``read_eval_dir``) and the log
    lines written since ``log_start`` (``read_log``: the best epoch and its dev score, when the
    run trained). The targets are the published RCV1 numbers of the config's model and mode
    (see ``published``). The scores are as written (upstream's), so they are named ``raw_*``.
    """
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    scores = read_eval_dir(config["eval"]["dir"])
    upstream_log = read_log(config["log"]["logger_file"], log_start)
    if upstream_log.eval_micro_f1 is not None and not math.isclose(
        upstream_log.eval_micro_f1, scores["raw_micro_f1"], abs_tol=1e-6
    ):
        raise UpstreamError(
            f"eval.py logged micro-F1 {upstream_log.eval_micro_f1} but its all_prf says "
            f"{scores['raw_micro_f1']}: is {config['eval']['dir']} from another run?"
        )
    model = config["model_name"]
    mode = "hierarchical" if config["task_info"]["hierarchical"] else "flat"
    metrics: dict[str, Any] = dict(scores)
    if upstream_log.best:
        best_epoch = upstream_log.best["epoch"]
        metrics["best_epoch"] = best_epoch
        for row in upstream_log.epochs:
            if row["epoch"] == best_epoch and "validate_micro_f1" in row:
                metrics["dev_raw_micro_f1"] = row["validate_micro_f1"]
        metrics["epochs"] = len(upstream_log.epochs)
    metrics.update({"model": model, "mode": mode, "test_files": config["data"]["test_json_files"]})
    targets = rcv1_targets(
        model,
        mode,
        scores["raw_micro_f1"],
        scores["raw_macro_f1"],
        f"NeuralClassifier {model}, eval.py",
    )
    return build_report(metrics, targets, started)


def record_run(
    name: str,
    config_path: str | Path,
    report: dict[str, Any],
    log_start: int = 0,
    root: str | Path = RUNS,
    clone_dir: str | Path = DEFAULT_DIR,
) -> Path:
    """Keep an upstream run as ``runs/<name>/`` (see ``runs.RunFolder``) and return it.

    The folder holds the report, one history row per epoch from upstream's log, the config
    (upstream's, with the clone's source and the seed upstream's ``train.py`` fixes), the
    environment, and upstream's own files: its ``*_prf`` files, the log lines of this run, and
    ``predict.txt`` when there is one. The working folder (checkpoints, dictionaries) stays put.
    """
    config_path = Path(config_path)
    config = json.loads(config_path.read_text(encoding="utf-8"))
    url, commit = source()
    head: str | None = None  # what the clone really holds (None: not a git checkout)
    if (Path(clone_dir) / ".git").exists():
        try:
            head = _git(["rev-parse", "HEAD"], Path(clone_dir))
        except UpstreamError:
            head = None
    settings = {
        "upstream": config,
        "upstream_url": url,
        "upstream_commit": commit,
        "clone_head": head,
        "clone_dir": str(Path(clone_dir).resolve()),
        # NeuralClassifier's train.py calls torch.manual_seed(2019) itself; no option changes it.
        "seed": UPSTREAM_SEED,
        "work_dir": str(config_path.parent.resolve()),
    }
    upstream_log = read_log(config["log"]["logger_file"], log_start)
    with RunFolder(name, settings, Path(root)) as run:
        for row in upstream_log.epochs:
            run.log(**row)
        eval_dir = Path(config["eval"]["dir"])
        for prf in sorted(eval_dir.glob("*_prf")):
            shutil.copyfile(prf, run.path(f"eval_{prf.name}"))
        log_file = Path(config["log"]["logger_file"])
        if log_file.is_file():
            with log_file.open("rb") as handle:
                handle.seek(log_start)
                run.path("neuralclassifier.log").write_bytes(handle.read())
        if (config_path.parent / "predict.txt").is_file():
            shutil.copyfile(config_path.parent / "predict.txt", run.path("predict.txt"))
        return run.finish(report)
