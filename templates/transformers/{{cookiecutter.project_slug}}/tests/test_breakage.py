"""The smoke can fail: break the model on purpose and `python -m <package> smoke` exits 1.

Each broken model (tests/broken.py) goes through the command line's own code path: the smoke's
model factory is swapped, everything else (data, dev choice, save, reload, pipeline, the
bag-of-n-grams baseline, the targets) runs as in `make smoke`.
"""

import json

import pytest
from broken import BROKEN

from {{ cookiecutter.package_name }} import (
    smoke,
)
from {{ cookiecutter.package_name }}.__main__ import (
    main,
)

ACCURACY = {"accuracy_over_bag_of_ngrams", "contrast_accuracy_over_bag_of_ngrams"}
# The targets each breakage must miss (it may miss more).
MUST_MISS = {
    "never_learns": ACCURACY | {"loss_drop"},
    "frozen_encoder": ACCURACY,
    "self_only": ACCURACY,
    "bag_of_tokens": {"contrast_accuracy_over_bag_of_ngrams"},
    "no_positions": {"contrast_accuracy_over_bag_of_ngrams"},
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_model_fails_the_smoke(name, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(smoke, "tiny_bert", BROKEN[name])
    status = main(["smoke", "--out", str(tmp_path)])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status == 1 and report["ok"] is False
    missed = {target for target, entry in report["targets"].items() if not entry["met"]}
    assert MUST_MISS[name] <= missed, report["metrics"]
    # The breakage survived save_pretrained + from_pretrained: the served model is the broken one.
    assert report["targets"]["roundtrip_abs_diff"]["met"]


def test_every_breakage_is_tested():
    assert set(MUST_MISS) == set(BROKEN)
