"""Models and tokenizers: a tiny BERT built from a config (smoke) or a pretrained encoder (real)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    BertTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from .data import LABELS
from .errors import StarterError

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
ID2LABEL = dict(enumerate(LABELS))
LABEL2ID = {label: i for i, label in ID2LABEL.items()}


def build_tokenizer(words: Iterable[str], max_length: int = 64) -> BertTokenizer:
    """A WordPiece tokenizer whose vocabulary is the special tokens plus `words` (lowercased).

    transformers 5 trap: `BertTokenizer(vocab_file=...)` is silently ignored and every word
    becomes [UNK]; the vocabulary must be passed as `vocab=` (a dict, or a path). The result is
    checked, so a silent fallback fails here instead of training a model on [UNK]s.
    """
    # >>> assignment: specials, then sorted lowercase words: BertTokenizer(vocab=)
    tokens = sorted({word.lower() for word in words if word not in SPECIAL_TOKENS})
    if not tokens:
        raise ValueError("the vocabulary needs at least one word besides the special tokens")
    vocab = {token: i for i, token in enumerate((*SPECIAL_TOKENS, *tokens))}
    tokenizer = BertTokenizer(vocab=vocab, do_lower_case=True, model_max_length=max_length)
    check_vocabulary(tokenizer, tokens[:1])
    return tokenizer
    # <<< assignment


def check_vocabulary(tokenizer: PreTrainedTokenizerBase, known_words: Iterable[str]) -> None:
    """Raise StarterError unless the tokenizer has a real vocabulary that knows `known_words`."""
    if len(tokenizer) <= len(SPECIAL_TOKENS):
        raise StarterError(
            f"the tokenizer has only {len(tokenizer)} tokens: its vocabulary was not loaded"
        )
    for word in known_words:
        ids = tokenizer(word, add_special_tokens=False)["input_ids"]
        if not ids or tokenizer.unk_token_id in ids:
            raise StarterError(f"the tokenizer maps the known word {word!r} to [UNK]")


def tiny_bert(
    vocab_size: int, max_length: int = 64, seed: int = 0
) -> BertForSequenceClassification:
    """A freshly initialised 2-layer BERT (hidden 32, 2 heads) with a 2-way classification head.

    The same seed gives the same weights. About 40k parameters with the smoke vocabulary.
    """
    if vocab_size <= len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must exceed {len(SPECIAL_TOKENS)}, got {vocab_size}")
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_length,
        # No dropout: with 32 hidden units it slows learning more than it regularises.
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        num_labels=len(LABELS),
        id2label=ID2LABEL,
        label2id=LABEL2ID,
    )
    torch.manual_seed(seed)
    return BertForSequenceClassification(config)


def load_classifier(
    name_or_path: str | Path, attn_implementation: str | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A sequence classifier and its tokenizer from a local folder or a hub model id.

    A hub encoder without a classification head (`distilbert/distilbert-base-uncased`) gets a new,
    randomly initialised 2-way head (transformers logs which weights are new). Weights are float32
    (transformers 5 spells the argument `dtype=`; `torch_dtype=` is gone). `attn_implementation`
    ("eager", "sdpa", or a name registered with `transformers.AttentionInterface`) is not saved
    with the model, so a reload that must compute attention the same way passes it again.
    Offline, a hub id loads from the local cache; StarterError says what to do when it is in
    neither place.
    """
    source = str(name_or_path)
    options = {} if attn_implementation is None else {"attn_implementation": attn_implementation}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForSequenceClassification.from_pretrained(
            source,
            num_labels=len(LABELS),
            id2label=ID2LABEL,
            label2id=LABEL2ID,
            dtype=torch.float32,
            **options,
        )
    except (OSError, ValueError) as err:  # ValueError: not a valid hub id either
        raise StarterError(
            f"could not load {source!r}: not a model folder and not in the Hugging Face cache. "
            f"Train one first, or run `python -m {__package__} download --model {source}` "
            "with network access."
        ) from err
    return model, tokenizer


def save_classifier(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, out_dir: str | Path
) -> Path:
    """Write model (safetensors + config) and tokenizer to `out_dir`; from_pretrained reads it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def pick_device(name: str = "auto") -> torch.device:
    """`auto` is CUDA when a GPU is visible, else CPU; `cpu` and `cuda` force one."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise StarterError("--device cuda was asked for, but torch sees no CUDA GPU")
    return torch.device(name)


def count_parameters(model: torch.nn.Module) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
