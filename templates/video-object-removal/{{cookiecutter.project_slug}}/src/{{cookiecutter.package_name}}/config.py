"""Defaults chosen when this project was generated (see ``.mlstarter.yml``).

Every one of them is a command-line flag too; change them here to change the project's
defaults.
"""

DEFAULT_TRACKER = "{{ cookiecutter.default_tracker }}"
DEFAULT_INPAINTER = "{{ cookiecutter.default_inpainter }}"
DEFAULT_DILATE_PX = 6
DEFAULT_RADIUS = 5
# The synthetic scenes (smoke run, tests, `synth`) are drawn from this seed: background, object,
# path, pause, scale and sensor noise. An instructor gives every student their own, so
# everyone's scenes and numbers differ.
DEFAULT_SEED = {{ cookiecutter.seed|int }}
{%- if cookiecutter.include_sam2 == 'yes' %}
SAM2_MODEL_ID = "facebook/sam2.1-hiera-tiny"  # the smallest SAM 2.1 (about 39 M parameters)
{%- endif %}
