"""What is specific to the video-object-removal template: its questions reach the files, the
optional SAM 2 extra comes and goes with its answer, and the pins are the agreed ones."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "video-object-removal"
COMMON = [
    "project_name",
    "project_slug",
    "package_name",
    "description",
    "author_name",
    "author_email",
    "github_username",
    "license",
    "copyright_year",
]
OWN = ["default_tracker", "default_inpainter", "include_sam2"]


def bake(cookies, **answers) -> Path:
    result = cookies.bake(template=str(TEMPLATE), extra_context=answers)
    assert result.exit_code == 0, result.exception
    return Path(result.project_path)


def pyproject(project: Path) -> dict:
    return tomllib.loads((project / "pyproject.toml").read_text())


def test_questions_common_block_first_then_own_with_prompts():
    spec = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    keys = [k for k in spec if not k.startswith("_")]
    assert keys == COMMON + OWN
    assert set(spec["__prompts__"]) == set(COMMON + OWN)
    assert spec["default_tracker"] == ["csrt", "kcf", "mil"]
    assert spec["default_inpainter"][0] == "telea"
    assert spec["include_sam2"] == ["yes", "no"]
    assert (TEMPLATE / "templates").is_symlink()


def test_default_bake_has_the_pipeline_the_sam2_extra_and_exact_pins(cookies):
    project = bake(cookies)
    pkg = project / "src" / "video_object_removal"
    for name in (
        "__main__",
        "synthetic",
        "video",
        "boxes",
        "track",
        "masks",
        "inpaint",
        "metrics",
        "pipeline",
        "evaluate",
        "smoke",
        "config",
        "sam2_masks",
    ):
        assert (pkg / f"{name}.py").is_file(), name
    for name in ("conftest", "test_track", "test_inpaint", "test_video", "test_smoke", "test_sam2"):
        assert (project / "tests" / f"{name}.py").is_file(), name

    meta = pyproject(project)["project"]
    assert meta["dependencies"] == ["numpy==2.4.6", "opencv-contrib-python-headless==5.0.0.93"]
    assert meta["optional-dependencies"]["dev"] == ["pytest==9.2.0", "ruff==0.17.6"]
    assert meta["optional-dependencies"]["sam2"] == [
        "torch==2.13.0",
        "torchvision==0.28.0",
        "transformers==5.23.0",
    ]
    assert meta["scripts"]["video-object-removal"] == "video_object_removal.__main__:main"
    markers = " ".join(pyproject(project)["tool"]["pytest"]["ini_options"]["markers"])
    assert all(f"{m}:" in markers for m in ("real", "gpu", "server"))

    config = (pkg / "config.py").read_text()
    assert 'DEFAULT_TRACKER = "csrt"' in config and 'DEFAULT_INPAINTER = "telea"' in config
    assert 'MASK_SOURCES = ("tracker", "sam2")' in (pkg / "__main__.py").read_text()
    makefile = (project / "Makefile").read_text()
    assert "setup-sam2:" in makefile and "demo:" in makefile and "bench-track" in makefile
    readme = (project / "README.md").read_text()
    for phrase in (
        "DAVIS-2017",
        "--bbox x,y,w,h",
        "ProPainter",
        "non-commercial",
        "Sam2VideoModel",
        "needs **no torch**",
    ):
        assert phrase in readme, phrase


def test_without_sam2_nothing_pulls_torch(cookies):
    project = bake(cookies, include_sam2="no", project_name="Erase It")
    pkg = project / "src" / "erase_it"
    assert not (pkg / "sam2_masks.py").exists()
    assert not (project / "tests" / "test_sam2.py").exists()
    meta = pyproject(project)["project"]
    assert set(meta["optional-dependencies"]) == {"dev"}
    assert "torch" not in (project / "pyproject.toml").read_text()
    assert 'MASK_SOURCES = ("tracker",)' in (pkg / "__main__.py").read_text()
    assert "SAM2" not in (pkg / "config.py").read_text()
    assert "setup-sam2" not in (project / "Makefile").read_text()
    assert "SAM 2" not in (project / "README.md").read_text()


@pytest.mark.parametrize(
    "answers",
    [
        {"default_tracker": "kcf", "default_inpainter": "temporal-median", "license": "none"},
        {
            "default_tracker": "mil",
            "default_inpainter": "ns",
            "license": "BSD-3-Clause",
            "include_sam2": "no",
        },
    ],
)
def test_answers_reach_the_config_and_the_code_compiles(cookies, answers):
    project = bake(cookies, **answers)
    pkg = project / "src" / "video_object_removal"
    config = (pkg / "config.py").read_text()
    assert f'DEFAULT_TRACKER = "{answers["default_tracker"]}"' in config
    assert f'DEFAULT_INPAINTER = "{answers["default_inpainter"]}"' in config
    assert (project / "LICENSE").exists() == (answers["license"] != "none")
    for path in [*pkg.glob("*.py"), *(project / "tests").glob("*.py")]:
        text = path.read_text()
        assert "{{" not in text and "{%" not in text, path
        compile(text, str(path), "exec")  # the Jinja conditionals left valid Python
