"""An LSTM that completes Python code, trained on real source files.

The pipeline, one module a step:

- ``tokenizer``: Python source to model tokens (``tokenize``; literals become placeholders);
- ``vocab``: the most frequent tokens plus ``<pad>`` and ``<unk>``;
- ``data``: folders of ``.py`` files, a file-level train/held-out split, batches;
- ``model``: embedding, stacked LSTM, tied output weights;
- ``train``, ``checkpoint``: training with a step or time budget, save and load;
- ``ngram``: the count-based baseline to beat;
- ``predict``: complete the current line (greedy or beam search);
- ``evaluate``: top-1/top-5 accuracy, keystrokes saved, latency on held-out files;
- ``smoke``: all of it in about 30 seconds; ``__main__``: the command line.
"""

__version__ = "0.1.0"
