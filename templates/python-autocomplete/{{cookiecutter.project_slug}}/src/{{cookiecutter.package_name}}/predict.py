"""Line completion: the text before the cursor in, the rest of the current line out."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from .checkpoint import load_checkpoint
from .model import LSTMLanguageModel, State
from .tokenizer import (
    DEDENT,
    INDENT,
    LAYOUT,
    NEWLINE,
    PLACEHOLDERS,
    Prefix,
    detokenize,
    indent_levels,
    tokenize_prefix,
)
from .vocab import SPECIALS, Vocabulary

INDENT_WIDTH = 4
OPENERS = ("(", "[", "{")
CLOSERS = (")", "]", "}")


@dataclass(frozen=True)
class Completion:
    """A suggested completion: ``text`` to insert at the cursor, from model ``tokens``."""

    text: str
    tokens: tuple[str, ...]
    log_prob: float


class Completer:
    """Completes the current line with a trained model, by greedy or beam search over tokens."""

    def __init__(
        self,
        model: LSTMLanguageModel,
        vocab: Vocabulary,
        *,
        max_context: int = 128,
        max_tokens: int = 32,
        device: str | torch.device = "cpu",
    ) -> None:
        self.model = model.to(device).eval()
        self.vocab = vocab
        self.max_context = max_context
        self.max_tokens = max_tokens
        self.device = torch.device(device)
        never = self._mask(SPECIALS)  # <pad> and <unk> are never suggested
        layout = self._mask((INDENT, DEDENT))
        closers = self._mask(CLOSERS)
        newline = self._mask((NEWLINE,))
        # excluded next tokens, by (brackets open?, may indent?)
        self._excluded = {
            (False, False): never | closers | layout,
            (False, True): never | closers,
            (True, False): never | newline | layout,
            (True, True): never | newline,
        }
        self._newline = vocab.id(NEWLINE) if NEWLINE in vocab else None
        self._typeable = [
            (index, text)
            for index, text in enumerate(vocab.tokens)
            if index >= len(SPECIALS) and text not in PLACEHOLDERS and text not in LAYOUT
        ]

    def _mask(self, texts: Sequence[str]) -> torch.Tensor:
        mask = torch.zeros(len(self.vocab), dtype=torch.bool)
        mask[[self.vocab.id(text) for text in texts if text in self.vocab]] = True
        return mask.to(self.device)

    @classmethod
    def from_checkpoint(cls, path: Path, device: str | torch.device = "cpu") -> Completer:
        """A completer for the model saved at ``path`` (see ``checkpoint.save_checkpoint``)."""
        checkpoint = load_checkpoint(path, device)
        return cls(checkpoint.model, checkpoint.vocab, device=device)

    def complete(self, text: str, *, beam_size: int = 1) -> str:
        """The text that completes the line the cursor is on (``""`` when nothing fits).

        The cursor is at the end of ``text``. A name being typed is finished (``os.pa`` ->
        ``th.join(...)``); on an empty line the indentation comes first. Literals show as
        ``<str>`` and ``<num>``; inside a string or a comment there is no completion.
        """
        return self.complete_prefix(text, beam_size=beam_size).text

    def complete_prefix(self, text: str, *, beam_size: int = 1) -> Completion:
        """Like ``complete``, with the model tokens and their log-probability."""
        prefix = tokenize_prefix(text)
        if prefix.in_literal:
            return Completion("", (), 0.0)
        context = [token.text for token in prefix.tokens]
        tokens, log_prob = self.complete_tokens(
            context, partial=prefix.partial, at_line_start=prefix.at_line_start, beam_size=beam_size
        )
        if not tokens:
            return Completion("", (), log_prob)
        rendered = self._render(prefix, tokens, text)
        return Completion(rendered, tuple(tokens), log_prob)

    def top_k(self, text: str, k: int = 5) -> list[Completion]:
        """The ``k`` likeliest completions of the line the cursor is on, likeliest first.

        A beam search of width ``k`` (``complete``'s rules: a typed name is finished first,
        brackets balance, none inside a string or comment). Each ``log_prob`` is the model's
        log-probability of that whole line given the code and what is typed of the first
        token, so the probabilities of the ``k`` lines sum to at most 1. Lines that render the
        same text are one suggestion, their probabilities added.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        prefix = tokenize_prefix(text)
        if prefix.in_literal:
            return []
        context = [token.text for token in prefix.tokens]
        lines, typed = self._lines(
            context, partial=prefix.partial, at_line_start=prefix.at_line_start, beam_size=k
        )
        merged: dict[str, Completion] = {}
        for beam in sorted(lines, key=lambda beam: -beam.log_prob):
            if not beam.tokens:
                continue
            tokens = self.vocab.decode(beam.tokens)
            rendered = self._render(prefix, tokens, text)
            if rendered in merged:  # the likelier one's tokens, both lines' probability
                seen = merged[rendered]
                log_prob = _log_add(seen.log_prob, beam.log_prob - typed)
                merged[rendered] = replace(seen, log_prob=log_prob)
            else:
                merged[rendered] = Completion(rendered, tuple(tokens), beam.log_prob - typed)
        return sorted(merged.values(), key=lambda completion: -completion.log_prob)[:k]

    def complete_tokens(
        self,
        context: Sequence[str],
        *,
        partial: str = "",
        at_line_start: bool = False,
        beam_size: int = 1,
    ) -> tuple[list[str], float]:
        """The most likely tokens from ``context`` to the end of the line, and their log-prob.

        The first token must start with ``partial``. Indentation tokens may only open the
        line, and only when ``at_line_start``; brackets must balance before the line ends.
        Beam search keeps ``beam_size`` candidate lines and returns the finished one with the
        best log-probability per token (``beam_size=1`` is greedy).
        """
        lines, _ = self._lines(
            context, partial=partial, at_line_start=at_line_start, beam_size=beam_size
        )
        if not lines:
            return [], 0.0  # nothing in the vocabulary starts with what was typed
        best = max(lines, key=lambda beam: beam.log_prob / (len(beam.tokens) + 1))
        return self.vocab.decode(best.tokens), best.log_prob

    @torch.no_grad()
    def _lines(
        self, context: Sequence[str], *, partial: str, at_line_start: bool, beam_size: int
    ) -> tuple[list[_Beam], float]:
        """The candidate lines of a beam search from ``context`` (none when no token starts
        with ``partial``), and the log-probability that the first token is one allowed."""
        if beam_size < 1:
            raise ValueError(f"beam_size must be at least 1, got {beam_size}")
        first_mask = self._first_mask(partial)
        if first_mask is not None and bool(first_mask.all()):
            return [], 0.0
        ids = self.vocab.encode(context[-self.max_context :]) or [self.vocab.id(NEWLINE)]
        hidden, state = self.model.encode(torch.tensor([ids], device=self.device))
        logits = self.model.logits(hidden[0, -1])
        depth = _open_brackets(context)
        start = _Beam([], 0.0, state, logits, at_line_start, depth)
        excluded = self._excluded[depth > 0, at_line_start]
        if first_mask is not None:
            excluded = excluded | first_mask
        log_probs = torch.log_softmax(logits.float(), dim=-1).masked_fill(excluded, -torch.inf)
        allowed = float(torch.logsumexp(log_probs, dim=-1))
        with _one_step_lstm():
            return self._search(start, first_mask, beam_size), allowed

    def _search(self, start: _Beam, first_mask: torch.Tensor | None, beam_size: int) -> list[_Beam]:
        """Grow lines from ``start`` one token at a time until ``beam_size`` are finished (or
        the token budget is spent: then the unfinished ones)."""
        beams = [start]
        finished: list[_Beam] = []
        for step in range(self.max_tokens):
            candidates: list[tuple[float, int, int]] = []
            for index, beam in enumerate(beams):
                assert beam.logits is not None  # only finished beams have none
                log_probs = torch.log_softmax(beam.logits.float(), dim=-1)
                mask = self._excluded[beam.depth > 0, beam.layout_allowed]
                if step == 0 and first_mask is not None:
                    mask = mask | first_mask
                log_probs = log_probs.masked_fill(mask, -torch.inf)
                top = torch.topk(log_probs, min(beam_size, len(log_probs)))
                for value, token in zip(top.values.tolist(), top.indices.tolist(), strict=True):
                    if value > -torch.inf:
                        candidates.append((beam.log_prob + value, index, token))
            candidates.sort(key=lambda item: -item[0])
            alive: list[tuple[float, int, int]] = []
            for log_prob, index, token in candidates[:beam_size]:
                if token == self._newline:
                    finished.append(_Beam(beams[index].tokens, log_prob, None, None, False, 0))
                else:
                    alive.append((log_prob, index, token))
            if not alive or len(finished) >= beam_size:
                break
            beams = self._advance(beams, alive)
        return finished or beams

    def _first_mask(self, partial: str) -> torch.Tensor | None:
        """Tokens excluded at the first step by the name being typed (None: no name typed)."""
        if not partial:
            return None
        allowed = [index for index, text in self._typeable if text.startswith(partial)]
        mask = torch.ones(len(self.vocab), dtype=torch.bool)
        mask[allowed] = False
        return mask.to(self.device)

    def _advance(self, beams: list[_Beam], alive: list[tuple[float, int, int]]) -> list[_Beam]:
        """Feed each surviving beam's new token to the model, in one batch."""
        rows = torch.tensor([index for _, index, _ in alive], device=self.device)
        tokens = torch.tensor([[token] for _, _, token in alive], device=self.device)
        states = [beam.state for beam in beams if beam.state is not None]
        assert len(states) == len(beams)  # only finished beams have no state
        hidden = torch.cat([state[0] for state in states], dim=1).index_select(1, rows)
        cell = torch.cat([state[1] for state in states], dim=1).index_select(1, rows)
        outputs, (hidden, cell) = self.model.encode(tokens, (hidden, cell))
        logits = self.model.logits(outputs[:, -1])
        advanced = []
        for row, (log_prob, index, token) in enumerate(alive):
            text = self.vocab.tokens[token]
            parent = beams[index]
            advanced.append(
                _Beam(
                    [*parent.tokens, token],
                    log_prob,
                    (hidden[:, row : row + 1], cell[:, row : row + 1]),
                    logits[row],
                    parent.layout_allowed and text in (INDENT, DEDENT),
                    parent.depth + (text in OPENERS) - (text in CLOSERS),
                )
            )
        return advanced

    @staticmethod
    def _render(prefix: Prefix, tokens: list[str], text: str) -> str:
        """Completion text: indentation first, then the rest of a partial name, then the line."""
        levels = indent_levels(prefix.tokens)
        code = list(tokens)
        while code and code[0] in (INDENT, DEDENT):
            if code.pop(0) == INDENT:
                levels.append(levels[-1] + INDENT_WIDTH)
            elif len(levels) > 1:
                levels.pop()
        indentation = ""
        if prefix.at_line_start:
            typed = len(text.rsplit("\n", 1)[-1].expandtabs(8))
            indentation = " " * max(0, levels[-1] - typed)
        before = [token.text for token in prefix.tokens]
        rest_of_name = ""
        if prefix.partial and code:
            first = code.pop(0)
            rest_of_name = first[len(prefix.partial) :]
            before.append(first)
        line = detokenize(code, before=before)
        if not prefix.partial and (prefix.at_line_start or text[-1:] in (" ", "\t")):
            line = line.lstrip(" ")  # the space is typed already
        return indentation + rest_of_name + line


@dataclass
class _Beam:
    """One candidate line: its token ids so far, their total log-probability, the LSTM state
    and next-token logits after them, and what may come next."""

    tokens: list[int]
    log_prob: float
    state: State | None
    logits: torch.Tensor | None
    layout_allowed: bool  # still at the start of a new line: <indent>/<dedent> may come
    depth: int  # brackets open on this line: the line cannot end, nor close more


def _open_brackets(context: Sequence[str]) -> int:
    """How many brackets are open on the current (last) line of ``context``."""
    depth = 0
    for text in reversed(context):
        if text == NEWLINE:
            break
        depth += (text in OPENERS) - (text in CLOSERS)
    return max(depth, 0)


def _log_add(a: float, b: float) -> float:
    """log(exp(a) + exp(b)), without overflow."""
    high, low = max(a, b), min(a, b)
    return high + math.log1p(math.exp(low - high))


@contextmanager
def _one_step_lstm() -> Iterator[None]:
    """Run the LSTM without oneDNN: its CPU kernels repack the weights on every call, which
    makes a one-token step about ten times slower (reading a long context, it is faster)."""
    enabled = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False  # type: ignore[assignment]  # a settable flag
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = enabled
