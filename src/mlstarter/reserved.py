"""Names a generated repo must not take for its `project_slug` or `package_name`.

The slug is the repo's distribution name and its console script (`[project.scripts]`); the package
name is what `import` finds. Either would shadow, in the repo's own venv:
- the venv's tools: `python`, `python3`, `pip`, `activate`, and what its Makefile runs;
- a dependency of the starter (pip would see the project and its dependency as one name), its
  import name, or a console script a dependency installs (`torchrun`, `tensorboard`, `pytest`);
- a library the starters import (`torch`, `numpy`, ...), or Python's own modules.

The dependencies are read from the template's own `pyproject.toml`; the console scripts of those
dependencies (and of theirs) cannot be known without installing them, so the known ones are listed
here.
"""

from __future__ import annotations

import re
from pathlib import Path

VENV_TOOL = re.compile(r"(?:python|pip|pydoc|idle)[0-9.-]*|activate|easy-install")
WORKFLOW_TOOLS = ("make", "git", "sh", "bash", "env", "pre-commit", "virtualenv", "hatchling",
                  "setuptools", "wheel", "pkg-resources", "pytest", "py-test", "ruff",
                  "mlstarter")  # fmt: skip

# console scripts installed by the starters' dependencies and by theirs (pip show -f, 2026)
DEPENDENCY_SCRIPTS = {
    "torch": ("torchrun", "torchfrtrace", "convert-caffe2-to-onnx", "convert-onnx-to-caffe2"),
    "transformers": ("transformers", "transformers-cli"),
    "huggingface-hub": ("hf", "huggingface-cli", "tiny-agents"),
    "tensorflow": ("tensorboard", "saved-model-cli", "tflite-convert", "toco",
                   "import-pb-to-tensorboard", "tf-upgrade-v2", "estimator-ckpt-converter",
                   "markdown-py", "google-oauthlib-tool", "wheel"),
    "numpy": ("f2py", "numpy-config"),
    "pytest": ("pytest", "py-test", "pygmentize"),
    "ruff": ("ruff",),
    "tqdm": ("tqdm",),
    "datasets": ("datasets-cli",),
    "nibabel": ("nib-conform", "nib-convert", "nib-dicomfs", "nib-diff", "nib-ls",
                "nib-nifti-dx", "nib-roi", "nib-stats", "nib-tck2trk", "nib-trk2tck",
                "parrec2nii"),
    "matplotlib": ("fonttools", "pyftmerge", "pyftsubset", "ttx"),
    "requests": ("normalizer",),
    "torchvision": (),
    "monai": (),
}  # fmt: skip
DEPENDENCY_SCRIPTS["tensorflow-cpu"] = DEPENDENCY_SCRIPTS["tensorflow"]
# torch pulls sympy, networkx and friends; huggingface-hub pulls httpx and typer
TRANSITIVE_SCRIPTS = ("isympy", "httpx", "typer", "markdown-it", "distro", "jsonschema",
                      "pyrsa-keygen", "convert-to-onnx")  # fmt: skip

IMPORT_NAMES = {
    "scikit-learn": "sklearn", "opencv-contrib-python-headless": "cv2", "pyyaml": "yaml",
    "taospy": "taos", "taos-ws-py": "taosws", "tensorflow-cpu": "tensorflow", "pillow": "pil",
}  # fmt: skip
# libraries the starters import (and names their layouts use)
LIBRARIES = ("src", "test", "tests", "torch", "transformers", "tokenizers", "datasets",
             "accelerate", "tensorflow", "tf", "tfpyth", "taos", "taosrest", "taosws", "monai",
             "nibabel", "cv2", "numpy", "scipy", "sklearn", "pandas", "matplotlib", "yaml",
             "requests", "mlstarter")  # fmt: skip

REQUIREMENT = re.compile(r'"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?:===?|[<>!~]=|[<>])')


def normalize(name: str) -> str:
    """A name as pip compares it: lowercase, runs of `-`, `_`, `.` as one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def template_dependencies(template_dir: Path) -> list[str]:
    """The distributions a template's `pyproject.toml` depends on (any group), normalized."""
    names: set[str] = set()
    for path in sorted(template_dir.glob("*/pyproject.toml")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        names.update(normalize(m.group(1)) for m in REQUIREMENT.finditer(text))
    return sorted(names)


def reserved_names(template_dir: Path) -> dict[str, str]:
    """Normalized name -> what it would shadow, for one template."""
    reserved: dict[str, str] = {}
    for tool in WORKFLOW_TOOLS:
        reserved[normalize(tool)] = f"the tool '{tool}' the repo's venv and Makefile use"
    for library in LIBRARIES:
        reserved.setdefault(normalize(library), f"the library '{library}'")
    for script in TRANSITIVE_SCRIPTS:
        reserved.setdefault(normalize(script), f"the console script '{script}' of a dependency")
    for dependency in template_dependencies(template_dir):
        reserved[dependency] = f"the starter's dependency '{dependency}'"
        imported = IMPORT_NAMES.get(dependency, dependency)
        reserved.setdefault(normalize(imported), f"the module '{imported}' of '{dependency}'")
        for script in DEPENDENCY_SCRIPTS.get(dependency, ()):
            reserved.setdefault(
                normalize(script), f"the console script '{script}' of the dependency '{dependency}'"
            )
    return reserved


def shadows(name: str, reserved: dict[str, str]) -> str | None:
    """What `name` would shadow, or None when it is free."""
    key = normalize(name)
    if VENV_TOOL.fullmatch(key):
        return f"the venv's own '{name}'"
    return reserved.get(key)
