"""Fine-tune a pretrained transformer encoder for sentence sentiment (SST-2)."""

__version__ = "0.1.0"
