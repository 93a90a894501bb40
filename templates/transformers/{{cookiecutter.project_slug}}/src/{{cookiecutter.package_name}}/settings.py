{%- set recipe = cookiecutter._model_recipes[cookiecutter.model_name] -%}
"""The real run's defaults and targets, in one place (no heavy imports: the command line reads
them)."""

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

# SST-2 training phrases (GLUE), and how many of them `train` holds out as its dev split: the
# split every choice is made on (the epoch kept). The validation set only reports.
SST2_TRAIN_PHRASES = 67349
DEV_EXAMPLES = 1000

# The published result for this encoder: SST-2 validation (GLUE dev) accuracy after fine-tuning
# on all of SST-2 train. A run on all the data is checked against it.
PUBLISHED_ACCURACY = {{ recipe.sst2_dev_accuracy }}
PUBLISHED_SOURCE = "{{ recipe.sst2_source }}"
# The project's own goal for a run on a CPU subset (not a published result): this accuracy
# within this many minutes of fine-tuning, with CPU_TRAIN_EXAMPLES phrases and one epoch.
CPU_GOAL_ACCURACY = 0.87
CPU_GOAL_MINUTES = 30.0
# Every real run must beat always answering the majority class by this many points.
MAJORITY_MARGIN = 0.25
