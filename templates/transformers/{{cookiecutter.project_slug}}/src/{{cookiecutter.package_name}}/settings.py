{%- set recipe = cookiecutter._model_recipes[cookiecutter.model_name] -%}
"""The real run's defaults, in one place (no heavy imports: the command line reads them)."""

from __future__ import annotations

# The pretrained encoder `train` fine-tunes ({{ recipe.parameters }} parameters); --model takes any
# other hub id of an encoder, or a local folder.
DEFAULT_MODEL = "{{ cookiecutter.model_name }}"
# Peak learning rate of AdamW for this encoder (the usual SST-2 recipe for it).
DEFAULT_LEARNING_RATE = {{ recipe.learning_rate }}
# Training examples on a CPU. One step of DistilBERT at batch 16 x 64 tokens takes about 2 s on
# 2 cores (SST-2 phrases are shorter, so most batches are cheaper): this fits the 30-minute budget.
CPU_TRAIN_EXAMPLES = {{ recipe.cpu_train_examples }}
# The seed this repository was generated with: the smoke run's grammar sentences and split, the
# initial weights, the batch order, and the SST-2 subset all follow it (`--seed` overrides it).
DEFAULT_SEED = {{ cookiecutter.seed|int }}
# SST-2 validation accuracy, and the minutes of fine-tuning allowed (the budget is for a CPU).
REAL_TARGETS = {"min_accuracy": 0.87, "max_train_minutes": 30.0}
