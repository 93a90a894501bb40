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
from .targets import build_report
from .taxonomy import Taxonomy, level

log = logging.getLogger(__name__)

URL = "https://github.com/Tencent/NeuralNLP-NeuralClassifier.git"
COMMIT = "3d4ddffa6304da32c25f74001c0c056922c4ba22"  # master, 2025-07-07 (code as of 2023-09)
DEFAULT_DIR = Path("third_party/NeuralNLP-NeuralClassifier")
DEFAULT_MODEL = "{{ cookiecutter.upstream_model }}"
DEFAULT_DEVICE = "{{ cookiecutter.device }}"
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


def clone(dest: str | Path = DEFAULT_DIR, url: str = URL, commit: str = COMMIT) -> Path:
    """Check out ``url`` at ``commit`` into ``dest`` (shallow); reuse ``dest`` if already there.

    Raises UpstreamError if ``dest`` holds another commit or unrelated files, or git fails.
    """
    dest = Path(dest)
    if (dest / ".git").exists():
        head = _git(["rev-parse", "HEAD"], dest)
        if head != commit:
            raise UpstreamError(
                f"{dest} is at commit {head[:12]}, not the pinned {commit[:12]}; "
                "remove the folder or pass another --dir"
            )
        return dest
    if dest.exists() and any(dest.iterdir()):
        raise UpstreamError(
            f"{dest} exists and is not a NeuralClassifier clone; pass another --dir"
        )
    dest.mkdir(parents=True, exist_ok=True)
    _git(["init", "-q"], dest)
    _git(["remote", "add", "origin", url], dest)
    try:
        _git(["fetch", "-q", "--depth", "1", "origin", commit], dest)
        _git(["checkout", "-q", "--detach", "FETCH_HEAD"], dest)
    except UpstreamError:  # a server that refuses fetching by commit: take the history
        _git(["fetch", "-q", "origin"], dest)
        _git(["checkout", "-q", "--detach", commit], dest)
    head = _git(["rev-parse", "HEAD"], dest)
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


def eval_report(config_path: str | Path, started: float) -> dict[str, Any]:
    """The report of an upstream run: ``eval.py``'s overall scores against the README's table.

    Reads ``all_prf`` from the config's ``eval.dir``; the targets are the published RCV1 numbers
    of the config's model and mode (see ``published``). Metrics are as-written scores, so they
    are named ``raw_*``.
    """
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    prf = read_prf(Path(config["eval"]["dir"]) / "all_prf")
    model = config["model_name"]
    mode = "hierarchical" if config["task_info"]["hierarchical"] else "flat"
    metrics = {
        "raw_micro_f1": prf["micro_f1"],
        "raw_macro_f1": prf["macro_f1"],
        "raw_micro_precision": prf["micro_precision"],
        "raw_micro_recall": prf["micro_recall"],
        "model": model,
        "mode": mode,
        "test_files": config["data"]["test_json_files"],
    }
    targets = rcv1_targets(
        model, mode, prf["micro_f1"], prf["macro_f1"], f"NeuralClassifier {model}, eval.py"
    )
    return build_report(metrics, targets, started)
