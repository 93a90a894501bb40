"""Held-out metrics: next-token accuracy, keystrokes saved, suggestion latency.

Every metric is computed from a ``Ranking``: for each position of a held-out token stream,
the model's candidates for the next token, best first. The LSTM and the n-gram baselines
produce rankings of the same shape, so they are scored by the same code, on the same
positions.

- ``top1`` / ``top5``: the true next token is the first / among the first five candidates.
  ``<unk>`` is never a candidate, so a name outside the vocabulary always counts as a miss.
- ``keystrokes_saved``: a simulated programmer types the code token by token. Before every
  character the editor offers the best candidate that starts with what is typed so far,
  and at every token boundary it also offers the model's greedy completion of the rest of
  the line; the programmer accepts a suggestion with one key when it is exactly right.
  The metric is the fraction of code characters saved: whitespace (the editor indents) and
  the text of literals (the model predicts *that* a string comes, not its text; upstream
  strips strings the same way) are not counted.
- ``latency_ms_p95``: the time to complete a line (context in, tokens to the end of the
  line out) on one CPU thread, the 95th percentile over sampled held-out positions.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional

from .data import batchify, windows
from .model import MAX_CONTEXT, LSTMLanguageModel
from .ngram import NGramModel
from .predict import Completer
from .tokenizer import LAYOUT, NEWLINE, PLACEHOLDERS, Token
from .vocab import SPECIALS, Vocabulary

COMPLETION = "completion.json"  # a run folder's annotated example (completion_example)
POPUP_SIZE = 64  # candidates an editor keeps per position for its suggestion list


@dataclass
class Ranking:
    """``candidates[i]`` ranks the guesses for ``targets[i]``, the token at ``first + i``."""

    targets: torch.Tensor  # [N] token ids
    candidates: torch.Tensor  # [N, K] token ids, best first
    first: int = 1  # stream index of targets[0]
    loss: float = math.nan  # mean cross-entropy in nats (nan for models without probabilities)


@torch.no_grad()
def rank_lstm(
    model: LSTMLanguageModel,
    ids: Sequence[int],
    *,
    batch_size: int = 16,
    context: int = MAX_CONTEXT,
    k: int = POPUP_SIZE,
    device: str | torch.device = "cpu",
) -> Ranking:
    """Run ``model`` over the stream ``ids`` and keep its ``k`` best next-token guesses at
    every position, plus the mean loss.

    The stream is cut into ``batch_size`` contiguous rows, read ``context`` tokens at a time,
    each from a blank state: the context the model was trained with (``MAX_CONTEXT``).
    """
    model.to(device).eval()
    k = min(k, model.config.vocab_size)
    inputs, targets = batchify(ids, batch_size)
    never = torch.zeros(model.config.vocab_size, dtype=torch.bool, device=device)
    never[: len(SPECIALS)] = True
    total_loss = 0.0
    chunks = []
    for window_inputs, window_targets in windows(inputs.to(device), targets.to(device), context):
        logits, _ = model(window_inputs)
        total_loss += functional.cross_entropy(
            logits.flatten(0, 1), window_targets.flatten(), reduction="sum"
        ).item()
        chunks.append(logits.masked_fill(never, -torch.inf).topk(k, dim=-1).indices.cpu())
    # rows are contiguous slices of the stream: row-major order is stream order
    candidates = torch.cat(chunks, dim=1).flatten(0, 1)
    return Ranking(targets.flatten().cpu(), candidates, 1, total_loss / targets.numel())


def rank_ngram(ngram: NGramModel, ids: Sequence[int], *, k: int = POPUP_SIZE) -> Ranking:
    """The n-gram model's ``k`` best guesses at every position of ``ids`` after the first."""
    rows = []
    known: dict[tuple[int, ...], list[int]] = {}  # contexts repeat: rank each one once
    for position in range(1, len(ids)):
        context = tuple(ids[max(0, position - ngram.order + 1) : position])
        if context not in known:
            ranked = ngram.rank(context, k)
            known[context] = ranked + [-1] * (k - len(ranked))  # -1 pads: never a token
        rows.append(known[context])
    return Ranking(torch.tensor(ids[1:]), torch.tensor(rows, dtype=torch.long).view(-1, k), 1)


def accuracy(ranking: Ranking, k: int) -> float:
    """Fraction of positions whose true next token is among the first ``k`` candidates."""
    # >>> assignment: mean over positions of (targets[i] in candidates[i, :k]), as a float
    hits = (ranking.candidates[:, :k] == ranking.targets[:, None]).any(dim=1)
    return hits.float().mean().item()
    # <<< assignment


def keystrokes_saved(ranking: Ranking, tokens: Sequence[Token], vocab: Vocabulary) -> float:
    """Fraction of code characters a programmer does not type, helped by the model.

    ``tokens`` is the stream the ranking was computed on; each token's ``source`` is what
    the programmer would type. See the module docstring for the simulated editor.
    """
    trace = keystroke_trace(ranking, tokens, vocab)
    typed = sum(step.typed for step in trace if step.counted)
    return sum(step.saved for step in trace) / typed if typed else 0.0


@dataclass(frozen=True)
class Keystrokes:
    """One token of the simulated typing session: what it costs and what the model saved.

    ``how`` is ``"typed"`` (every character typed), ``"token"`` (the first characters typed,
    the best suggestion accepted with one key) or ``"line"`` (inside a greedy rest of the line
    accepted with one key, paid on its first token; the newline is typed). ``counted`` is
    false for literals, whose text is never suggested nor counted.
    """

    source: str
    text: str
    typed: int
    saved: int
    how: str
    counted: bool


def keystroke_trace(
    ranking: Ranking, tokens: Sequence[Token], vocab: Vocabulary
) -> list[Keystrokes]:
    """The simulated programmer's session token by token (``keystrokes_saved`` sums it)."""
    stream = tokens[ranking.first : ranking.first + len(ranking.targets)]
    offered = [
        None if text in PLACEHOLDERS or text in LAYOUT or text in SPECIALS else text
        for text in vocab.tokens
    ]
    targets = ranking.targets.tolist()
    candidates = ranking.candidates.tolist()
    line_ok, line_chars, line_end = _whole_line_suggestions(ranking, stream)
    trace: list[Keystrokes] = []

    def step(token: Token, saved: int, how: str) -> Keystrokes:
        counted = token.text not in PLACEHOLDERS
        return Keystrokes(token.source, token.text, token.typed_chars, saved, how, counted)

    position = 0
    while position < len(stream):
        if line_ok[position] and line_chars[position] >= 2:  # accept the rest of the line
            end = min(line_end[position], len(stream) - 1)
            key = 1  # the key that accepts the line is typed; Enter (the newline) is typed too
            for index in range(position, end + 1):
                token = stream[index]
                saved = 0 if token.text == NEWLINE else token.typed_chars
                paid = min(key, saved)
                key -= paid
                trace.append(step(token, saved - paid, "line"))
            position = end + 1
            continue
        text = offered[targets[position]]
        saved = 0
        if text is not None and len(text) >= 2 and text == stream[position].source:
            saved = _saved_on_token(text, candidates[position], offered)
        trace.append(step(stream[position], saved, "token" if saved else "typed"))
        position += 1
    return trace


def _saved_on_token(text: str, candidates: Sequence[int], offered: Sequence[str | None]) -> int:
    """Keys saved on one token: the programmer types its first characters until the best
    suggestion starting with them is the token, then accepts it with one key.

    The token is the first suggestion matching a typed prefix exactly when that prefix is
    longer than what any better-ranked suggestion shares with the token.
    """
    must_type = 0
    for index in candidates:
        suggestion = offered[index] if index >= 0 else None
        if suggestion is None:
            continue
        if suggestion == text:
            return len(text) - must_type - 1
        shared = 0
        for typed_char, suggested_char in zip(text, suggestion, strict=False):
            if typed_char != suggested_char:
                break
            shared += 1
        must_type = max(must_type, shared + 1)
        if must_type > len(text) - 2:  # typing all but the last key saves nothing
            return 0
    return 0


def _whole_line_suggestions(
    ranking: Ranking, stream: Sequence[Token]
) -> tuple[list[bool], list[int], list[int]]:
    """For each position: is the greedy completion to the end of the line exactly right, how
    many characters does it hold, and where does the line end.

    Greedy decoding from a position follows the model's first choices; while they are right
    they are exactly the first choices of the following positions, so a right completion is
    a run of right first choices up to and including the end of the line. A completion
    holding a literal or ``<unk>`` cannot be typed for the programmer: never right.
    """
    size = len(stream)
    first_right = (ranking.candidates[:size, 0] == ranking.targets[:size]).tolist()
    unk = SPECIALS.index("<unk>")
    targets = ranking.targets.tolist()
    ok = [False] * (size + 1)
    chars = [0] * (size + 1)
    end = [size] * (size + 1)
    for position in range(size - 1, -1, -1):
        token = stream[position]
        if token.text == NEWLINE:
            ok[position], chars[position], end[position] = first_right[position], 0, position
            continue
        typeable = token.text not in PLACEHOLDERS and targets[position] != unk
        ok[position] = first_right[position] and typeable and ok[position + 1]
        chars[position] = token.typed_chars + chars[position + 1]
        end[position] = end[position + 1]
    return ok, chars, end


def completion_latency_ms(
    completer: Completer,
    ids: Sequence[int],
    *,
    samples: int = 50,
    seed: int = 0,
) -> dict[str, float]:
    """Median and 95th-percentile time (ms) to complete a line at random held-out positions.

    Timed on one CPU thread, as an editor plugin would run beside everything else (more
    threads barely help one short sequence, and they stall when the machine is busy).
    """
    rng = random.Random(seed)
    tokens = completer.vocab.decode(ids)
    positions = [rng.randrange(1, len(tokens)) for _ in range(samples)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        completer.complete_tokens(tokens[: positions[0]])  # warm-up: first calls allocate
        timings = []
        for position in positions:
            start = time.perf_counter()
            completer.complete_tokens(tokens[max(0, position - completer.max_context) : position])
            timings.append((time.perf_counter() - start) * 1000)
    finally:
        torch.set_num_threads(threads)
    timings.sort()
    return {
        "latency_ms_p50": timings[len(timings) // 2],
        "latency_ms_p95": timings[min(len(timings) - 1, math.ceil(0.95 * len(timings)) - 1)],
    }


def score(ranking: Ranking, tokens: Sequence[Token], vocab: Vocabulary) -> dict[str, float]:
    """top1, top5 and keystrokes_saved for one ranking (plus loss when the model has one)."""
    metrics = {
        "top1": accuracy(ranking, 1),
        "top5": accuracy(ranking, 5),
        "keystrokes_saved": keystrokes_saved(ranking, tokens, vocab),
    }
    if not math.isnan(ranking.loss):
        metrics["loss"] = ranking.loss
    return metrics


def evaluate_heldout(
    model: LSTMLanguageModel,
    vocab: Vocabulary,
    tokens: Sequence[Token],
    *,
    baselines: Mapping[str, NGramModel] | None = None,
    latency_samples: int = 50,
    device: str | torch.device = "cpu",
) -> dict[str, float]:
    """Every held-out metric of the LSTM, and of each baseline (prefixed by its name).

    The baselines are scored on exactly the positions the LSTM is scored on, by the same
    code: ``top1``, ``top5``, ``keystrokes_saved`` and ``loss`` (nats per token).
    """
    ids = vocab.encode(token.text for token in tokens)
    ranking = rank_lstm(model, ids, device=device)
    metrics = score(ranking, tokens, vocab)
    if latency_samples:
        completer = Completer(model, vocab, device=device)
        metrics.update(completion_latency_ms(completer, ids, samples=latency_samples))
    # the same positions as the LSTM (batching drops a few tokens at the end)
    same_positions = ids[: ranking.first + len(ranking.targets)]
    for name, ngram in (baselines or {}).items():
        baseline = score(rank_ngram(ngram, same_positions), tokens, vocab)
        baseline["loss"] = ngram.cross_entropy(same_positions, len(vocab))
        metrics.update({f"{name}_{metric}": value for metric, value in baseline.items()})
    metrics["heldout_tokens"] = len(ranking.targets)
    metrics["heldout_unk_rate"] = sum(i == vocab.unk_id for i in ids) / max(1, len(ids))
    return metrics


def completion_example(
    model: LSTMLanguageModel,
    vocab: Vocabulary,
    tokens: Sequence[Token],
    *,
    lines: int = 12,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """A real held-out snippet typed with the model's help, token by token (for ``report``).

    The snippet is the first ``def`` that starts a line after a third of ``tokens``, through
    ``lines`` lines; the model reads it as it reads every held-out token (the same contexts,
    with the code before it), and ``keystroke_trace`` says what was typed and what accepted.
    """
    starts = [
        index
        for index in range(1, len(tokens))
        if tokens[index].text == "def" and tokens[index - 1].text in LAYOUT
    ]
    later = [index for index in starts if index >= len(tokens) // 3]
    start = (later or starts or [0])[0]
    end, newlines = start, 0
    while end < len(tokens) and newlines < lines:
        newlines += tokens[end].text == NEWLINE
        end += 1
    context_start = max(0, start - MAX_CONTEXT)
    window = tokens[context_start:end]
    ranking = rank_lstm(
        model, vocab.encode(token.text for token in window), batch_size=1, device=device
    )
    trace = keystroke_trace(ranking, window, vocab)[max(0, start - context_start - ranking.first) :]
    return {
        "tokens": [
            [step.source, step.text, step.typed, step.saved, step.how, step.counted]
            for step in trace
        ],
        "typed": sum(step.typed for step in trace if step.counted),
        "saved": sum(step.saved for step in trace),
    }
