"""Training, prediction and checkpoints for the starter's own classifiers.

``fit`` trains a TextCNN with one sigmoid per label (``BCEWithLogitsLoss``) in one of two modes:

* ``hierarchical``: every node of a document's paths is a target (``A``, ``A--B``, ``A--B--C``)
  and a recursive regularisation term (Gopal & Yang, 2013) pulls each child's output weights
  towards its parent's, so rare leaves borrow strength from their parents;
* ``flat``: only the most specific labels are targets, no hierarchy is used in training.

It keeps the weights of the epoch with the best dev micro-F1 (epoch 1 at the least).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from . import DEFAULT_SEED
from .data import Document, LabelSpace, Vocab, targets
from .evaluate import hierarchical_scores, label_style
from .model import TextCNN, TfidfIndex, TfidfLogisticRegression

log = logging.getLogger(__name__)

# Builds the network that ``fit`` trains: (vocabulary size, number of labels, config) -> a module
# mapping padded token ids [batch, time] to logits [batch, labels]. Tests inject broken ones.
ModelFactory = Callable[[int, int, "TrainConfig"], nn.Module]


@dataclass
class TrainConfig:
    """Hyper-parameters of :func:`fit`; the defaults are sized for RCV1-like corpora."""

    mode: str = "hierarchical"
    epochs: int = 10
    batch_size: int = 64
    lr: float = 5e-3
    embed_dim: int = 64
    kernel_sizes: tuple[int, ...] = (2, 3, 4)
    num_kernels: int = 100
    dropout: float = 0.3
    max_len: int = 256
    min_count: int = 2
    max_vocab: int = 50_000
    hierar_penalty: float = 1e-4
    threshold: float = 0.5
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        if self.mode not in ("hierarchical", "flat"):
            raise ValueError(f"mode must be 'hierarchical' or 'flat', not {self.mode!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be at least 1")
        if self.lr < 0:
            raise ValueError(f"lr must be >= 0, not {self.lr}")
        self.kernel_sizes = tuple(self.kernel_sizes)
        if not self.kernel_sizes or min(self.kernel_sizes) < 1:
            raise ValueError(f"kernel sizes must be >= 1, not {self.kernel_sizes}")


def textcnn_factory(vocab_size: int, num_labels: int, config: TrainConfig) -> nn.Module:
    """The default network of :func:`fit`: a TextCNN sized by ``config``."""
    return TextCNN(
        vocab_size,
        num_labels,
        config.embed_dim,
        config.kernel_sizes,
        config.num_kernels,
        config.dropout,
    )


def encode_tokens(docs: Sequence[Document], vocab: Vocab, max_len: int) -> torch.Tensor:
    """Token ids of ``docs`` padded with 0 to the longest document: ``[len(docs), time]``."""
    rows = [vocab.encode(doc.tokens, max_len) or [Vocab.UNK] for doc in docs]
    out = torch.zeros(len(rows), max(len(r) for r in rows), dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out


def encode_targets(docs: Sequence[Document], labels: LabelSpace, mode: str) -> torch.Tensor:
    """Multi-hot targets ``[len(docs), len(labels)]`` (labels outside the space are dropped)."""
    out = torch.zeros(len(docs), len(labels))
    for i, doc in enumerate(docs):
        for label in targets(doc.labels, mode):
            j = labels.index.get(label)
            if j is not None:
                out[i, j] = 1.0
    return out


def recursive_penalty(weight: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """0.5 * sum over parent-child edges of ||w_child - w_parent||^2 (rows of ``weight``)."""
    if pairs.numel() == 0:
        return weight.sum() * 0.0
    diff = weight[pairs[:, 1]] - weight[pairs[:, 0]]
    return 0.5 * (diff * diff).sum()


def decode(probs: torch.Tensor, labels: LabelSpace, threshold: float) -> list[set[str]]:
    """Label sets from scores ``[docs, labels]``: those above ``threshold``, else the best one."""
    out = []
    for row in probs:
        chosen = {labels.labels[j] for j in torch.nonzero(row > threshold).flatten().tolist()}
        out.append(chosen or {labels.labels[int(row.argmax())]})
    return out


@dataclass
class Classifier:
    """A trained TextCNN with what it needs to read new documents and name its outputs."""

    model: nn.Module
    vocab: Vocab
    labels: LabelSpace
    config: TrainConfig
    # How the training corpus writes labels, and its labels as written: what the as-written
    # (NeuralClassifier) scores compare predictions with (see evaluate.as_written_scores).
    written_labels: tuple[str, ...] = ()
    label_style: str = "closed"

    @torch.no_grad()
    def predict_proba(self, docs: Sequence[Document], batch_size: int = 256) -> torch.Tensor:
        """Sigmoid scores ``[len(docs), len(labels)]``."""
        self.model.eval()
        chunks = []
        for start in range(0, len(docs), batch_size):
            tokens = encode_tokens(
                docs[start : start + batch_size], self.vocab, self.config.max_len
            )
            chunks.append(torch.sigmoid(self.model(tokens)))
        return torch.cat(chunks) if chunks else torch.zeros(0, len(self.labels))

    def predict(self, docs: Sequence[Document], threshold: float | None = None) -> list[set[str]]:
        """Labels scored above ``threshold``; an empty row falls back to the single best label."""
        threshold = self.config.threshold if threshold is None else threshold
        return decode(self.predict_proba(docs), self.labels, threshold)

    def save(self, path: str | Path) -> Path:
        """Save weights, vocabulary, labels and config in one file (loadable with weights_only)."""
        if not isinstance(self.model, TextCNN):
            raise TypeError(f"only a TextCNN can be saved, not {type(self.model).__name__}")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "format": "textcnn-v1",
                "hparams": self.model.hparams,
                "state_dict": self.model.state_dict(),
                "vocab": self.vocab.itos[2:],
                "labels": self.labels.labels,
                "config": {**asdict(self.config), "kernel_sizes": list(self.config.kernel_sizes)},
                "written_labels": list(self.written_labels),
                "label_style": self.label_style,
            },
            path,
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> Classifier:
        """Load a file written by :meth:`save` (tensors and plain Python values only)."""
        blob = torch.load(Path(path), map_location="cpu", weights_only=True)
        if blob.get("format") != "textcnn-v1":
            raise ValueError(f"{path} is not a checkpoint written by Classifier.save")
        model = TextCNN(**blob["hparams"])
        model.load_state_dict(blob["state_dict"])
        model.eval()
        return cls(
            model,
            Vocab(blob["vocab"]),
            LabelSpace(blob["labels"]),
            TrainConfig(**blob["config"]),
            tuple(blob.get("written_labels", ())),
            blob.get("label_style", "closed"),
        )


@dataclass
class TrainResult:
    """The best classifier, its epoch, and per-epoch ``{epoch, loss, dev_micro_f1}``."""

    classifier: Classifier
    best_epoch: int
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def _seed(seed: int) -> torch.Generator:
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def fit(
    train: Sequence[Document],
    dev: Sequence[Document],
    config: TrainConfig,
    model_factory: ModelFactory | None = None,
) -> TrainResult:
    """Train a network on ``train``, select the epoch by micro-F1 on ``dev``, return the best.

    The vocabulary and the label space come from ``train`` alone. ``model_factory`` builds the
    network (default: :func:`textcnn_factory`); the smoke's breakage tests pass broken ones.
    """
    start = time.perf_counter()
    gen = _seed(config.seed)
    vocab = Vocab.build(train, config.min_count, config.max_vocab)
    labels = LabelSpace.for_docs(train, config.mode)
    model = (model_factory or textcnn_factory)(len(vocab), len(labels), config)
    written = tuple(sorted({label for doc in train for label in doc.labels}))
    clf = Classifier(model, vocab, labels, config, written, label_style(d.labels for d in train))
    x = encode_tokens(train, vocab, config.max_len)
    y = encode_targets(train, labels, config.mode)
    lengths = (x != 0).sum(dim=1)
    pairs = torch.tensor(labels.parent_child_pairs(), dtype=torch.long).reshape(-1, 2)
    penalty = config.hierar_penalty if config.mode == "hierarchical" else 0.0
    # The recursive penalty ties the rows of the output layer; an injected network without a
    # linear head named ``linear`` trains without it.
    head = getattr(model, "linear", None)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    loss_fn = nn.BCEWithLogitsLoss()
    history: list[dict[str, float]] = []
    best_f1, best_epoch, best_state = -1.0, 0, None
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(train), generator=gen)
        total = 0.0
        for begin in range(0, len(order), config.batch_size):
            idx = order[begin : begin + config.batch_size]
            width = max(int(lengths[idx].max()), 1)
            logits = model(x[idx, :width])
            loss = loss_fn(logits, y[idx])
            if penalty and isinstance(head, nn.Linear):
                loss = loss + penalty * recursive_penalty(head.weight, pairs)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        dev_f1 = hierarchical_scores([d.labels for d in dev], clf.predict(dev))["micro_f1"]
        history.append(
            {"epoch": epoch, "loss": round(total / len(train), 5), "dev_micro_f1": dev_f1}
        )
        log.info("epoch %d  loss %.4f  dev micro-F1 %.4f", epoch, total / len(train), dev_f1)
        if dev_f1 > best_f1:
            best_f1, best_epoch = dev_f1, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert best_state is not None
    model.load_state_dict(best_state)
    model.eval()
    return TrainResult(clf, best_epoch, history, round(time.perf_counter() - start, 3))


def ngrams(tokens: Sequence[str], n: int) -> list[str]:
    """The tokens, then every run of 2..``n`` adjacent tokens joined by a space."""
    out = list(tokens)
    for k in range(2, n + 1):
        out.extend(" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1))
    return out


@dataclass
class BaselineResult:
    """Predicted label sets of the test documents, and what dev chose."""

    predictions: list[set[str]]
    c: float
    dev_micro_f1: float
    features: int


def fit_tfidf_baseline(
    train: Sequence[Document],
    dev: Sequence[Document],
    test: Sequence[Document],
    cs: Sequence[float] = (1.0, 10.0, 100.0),
    ngram: int = 1,
    max_iter: int = 100,
    min_count: int = 2,
    threshold: float = 0.5,
) -> BaselineResult:
    """TF-IDF over 1..``ngram``-grams + one-vs-rest logistic regression over every node.

    Per label it minimises ``C * sum(log-loss) + 0.5 * ||w||^2`` with an unpenalised bias (the
    objective of scikit-learn's ``LogisticRegression``), solved by full-batch L-BFGS. Features
    (n-grams seen ``min_count`` times) and idf come from ``train`` only; ``C`` is chosen from
    ``cs`` by dev micro-F1; the test documents are predicted once, at the end. Deterministic:
    no sampling anywhere.
    """
    grams = {
        name: [ngrams(d.tokens, ngram) for d in docs]
        for name, docs in (("train", train), ("dev", dev), ("test", test))
    }
    vocab = Vocab.build(
        (Document(d.labels, tuple(g)) for d, g in zip(train, grams["train"], strict=True)),
        min_count,
        max_size=10**7,
    )
    labels = LabelSpace.for_docs(train, "hierarchical")
    ids = {name: [vocab.encode(g, len(g)) for g in docs] for name, docs in grams.items()}
    tfidf = TfidfIndex(ids["train"], len(vocab))
    bags = {name: TfidfIndex.collate(tfidf.rows(split_ids)) for name, split_ids in ids.items()}
    y = encode_targets(train, labels, "hierarchical")
    n = len(train)
    best: tuple[float, float, dict[str, torch.Tensor]] | None = None
    for c in cs:
        model = TfidfLogisticRegression(len(vocab), len(labels))
        optimizer = torch.optim.LBFGS(
            model.parameters(),
            lr=1.0,
            max_iter=max_iter,
            history_size=10,
            line_search_fn="strong_wolfe",
        )

        def closure(
            model: TfidfLogisticRegression = model,
            optimizer: torch.optim.LBFGS = optimizer,
            c: float = c,
        ) -> torch.Tensor:
            optimizer.zero_grad()
            logits = model(*bags["train"])
            loss = nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="sum")
            loss = (loss + 0.5 / c * model.weight.weight.pow(2).sum()) / n
            loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
            return loss

        optimizer.step(closure)  # type: ignore[no-untyped-call]  # torch leaves it unannotated
        with torch.no_grad():
            pred = decode(torch.sigmoid(model(*bags["dev"])), labels, threshold)
        dev_f1 = float(hierarchical_scores([d.labels for d in dev], pred)["micro_f1"])
        log.info(
            "TF-IDF (1..%d-grams) + logistic regression, C=%g: dev micro-F1 %.4f", ngram, c, dev_f1
        )
        if best is None or dev_f1 > best[0]:
            best = (dev_f1, c, {k: v.clone() for k, v in model.state_dict().items()})
    assert best is not None
    model = TfidfLogisticRegression(len(vocab), len(labels))
    model.load_state_dict(best[2])
    with torch.no_grad():
        pred = decode(torch.sigmoid(model(*bags["test"])), labels, threshold)
    return BaselineResult(pred, best[1], best[0], len(vocab) - 2)
