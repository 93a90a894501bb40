"""Hierarchical multi-label text classification in NeuralClassifier's data format.

Modules: ``taxonomy`` (the label tree), ``data`` (the JSON-lines format and its validator),
``synthetic`` (an offline corpus), ``convert`` (CSV to the format), ``model`` (TextCNN and a
TF-IDF baseline), ``train``, ``evaluate``, ``upstream`` (Tencent NeuralClassifier, cloned at a
pinned commit) and ``smoke``. ``python -m`` on this package runs the command line.
"""

__version__ = "0.1.0"

# The seed this copy of the project was generated with (mlstarter's ``seed`` answer): the default
# of every ``--seed`` option, so the smoke run's synthetic corpus and the splits come from it.
DEFAULT_SEED = {{ cookiecutter.seed|int }}
