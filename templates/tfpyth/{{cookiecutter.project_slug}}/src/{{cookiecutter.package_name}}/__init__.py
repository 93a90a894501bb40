"""One model across TensorFlow and PyTorch.

A TensorFlow feature extractor feeds a PyTorch head and both are trained end to end, either
through the 2019 library tfpyth (TF1 graph mode, run in a subprocess) or through the zero-copy
DLPack bridge in :mod:`.bridge`.

Importing the package sets two TensorFlow environment defaults before TensorFlow loads: quiet
C++ logs (``TF_CPP_MIN_LOG_LEVEL=2``) and no oneDNN custom ops (``TF_ENABLE_ONEDNN_OPTS=0``), so
that runs are repeatable to the last digit. Values you set yourself are kept.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
