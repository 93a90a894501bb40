"""The published numbers this project is measured against: NeuralClassifier's RCV1 results.

Every value comes from the "Performance" section of the NeuralClassifier README (Tencent,
2019), read at the pinned commit: table 2 ("Different text encoders") and table 3
("Hierarchical vs Flat") give micro- and macro-F1 on RCV1 (23,149 training, 781,265 test
documents, 103 labels, 300-d GloVe embeddings); table 1 ("Compare with state-of-the-art")
gives HMCN's micro-F1 as published by Wehrmann et al. (2018).

They are *as-written* scores (upstream ``eval.py``: labels compared as the corpus writes them,
macro-F1 from macro precision and recall). Compare them with this starter's ``raw_micro_f1`` and
``raw_macro_f1``, never with its closed ``micro_f1``.
"""

from __future__ import annotations

from .targets import Target, published

README = "https://github.com/Tencent/NeuralNLP-NeuralClassifier#performance"

# upstream model name -> (README row, {mode: (micro-F1, macro-F1)}). "Transformer" runs as the
# Star-Transformer (the generated config sets use_star); "TextRCNN" is the README's "RCNN".
RCV1: dict[str, tuple[str, dict[str, tuple[float, float | None]]]] = {
    "TextCNN": ("TextCNN", {"hierarchical": (0.7717, 0.5246), "flat": (0.7367, 0.4224)}),
    "TextRNN": ("TextRNN", {"hierarchical": (0.8152, 0.5458), "flat": (0.7546, 0.4505)}),
    "TextRCNN": ("RCNN", {"hierarchical": (0.8313, 0.6047), "flat": (0.7955, 0.5123)}),
    "FastText": ("FastText", {"hierarchical": (0.6887, 0.2701), "flat": (0.6865, 0.2816)}),
    "DRNN": ("DRNN", {"hierarchical": (0.7846, 0.5147), "flat": (0.7506, 0.4450)}),
    "DPCNN": ("DPCNN", {"hierarchical": (0.8220, 0.5609), "flat": (0.7423, 0.4261)}),
    "TextVDCNN": ("VDCNN", {"hierarchical": (0.7263, 0.3860), "flat": (0.7110, 0.3593)}),
    "AttentiveConvNet": (
        "AttentiveConvNet",
        {"hierarchical": (0.7533, 0.4373), "flat": (0.7511, 0.4286)},
    ),
    "RegionEmbedding": (
        "RegionEmbedding",
        {"hierarchical": (0.7780, 0.4888), "flat": (0.7640, 0.4617)},
    ),
    "Transformer": (
        "Star-Transformer",
        {"hierarchical": (0.7668, 0.4840), "flat": (0.7618, 0.4745)},
    ),
    # HMCN models the hierarchy itself and runs with task_info.hierarchical = false.
    "HMCN": ("HMCN (Wehrmann et al., 2018)", {"hierarchical": (0.8080, None)}),
}


def rcv1_targets(
    model: str, mode: str, micro_f1: float | None, macro_f1: float | None, who: str
) -> dict[str, Target]:
    """Targets ``raw_micro_f1 >= published`` (and macro where published) for ``model``/``mode``.

    ``who`` names what was measured (``NeuralClassifier TextRCNN``, ``this repo's TextCNN``).
    A missing measured value (None) misses its target. Raises KeyError for a model the README
    has no RCV1 number for.
    """
    row, modes = RCV1[model]
    if model == "HMCN":
        mode = "hierarchical"
        table = "table 1"
    else:
        table = "table 3" if mode == "flat" else "tables 2 and 3"
    micro, macro = modes[mode]
    cite = f"NeuralClassifier README, Performance, {table}: RCV1 {row} {mode}"
    targets = {
        "raw_micro_f1_vs_published": published(
            _value(micro_f1), ">=", micro, f"{cite} micro-F1 {micro} ({README}); measured: {who}"
        )
    }
    if macro is not None:
        targets["raw_macro_f1_vs_published"] = published(
            _value(macro_f1), ">=", macro, f"{cite} macro-F1 {macro} ({README}); measured: {who}"
        )
    return targets


def _value(value: float | None) -> float:
    """A measured value as a float; None (nothing measured) becomes NaN, which never passes."""
    return float("nan") if value is None else float(value)
