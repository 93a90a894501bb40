"""Command line: ``python -m {{ cookiecutter.package_name }} <command>``.

    smoke          the whole pipeline offline on synthetic scenes, against same-run baselines
    report         figures and the README's Results section from a run folder (make report)
    synth          write a synthetic clip as an mp4 (and print its first box) to try `remove`
    demo           serve the web demo over a run (make demo): upload a clip, give a box
    space          a Hugging Face Space of the demo in dist/space (make space)
    remove         erase an object from a video (mp4 or a folder of frames) given one box
    fetch-davis    download and unpack DAVIS 2017 (480p) into data/DAVIS, whole or not at all
    bench-track    DAVIS 2017 semi-supervised VOS, J and F (Perazzi et al. 2016), boxes as masks
    bench-inpaint  fill methods on DAVIS: E2FGVI's protocol (its test masks) or borrowed holes

Progress goes to stderr; the result of every command is one JSON object, the last line of
stdout. ``smoke``, ``bench-track`` and ``bench-inpaint`` print the report of ``targets.py``
(``{"ok", "seconds", "metrics", "targets"}``) and exit 0 when every target is met, 1 when one
is missed; ``synth``, ``remove`` and ``fetch-davis`` are tools with nothing to measure against
and print what they wrote. Bad input ends with a one-line ``error:`` message and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .boxes import Box, box_from_mask, parse_bbox
from .config import (
    DEFAULT_DILATE_PX,
    DEFAULT_INPAINTER,
    DEFAULT_RADIUS,
    DEFAULT_SEED,
    DEFAULT_TRACKER,
)
from .demo_server import DemoUnavailable
from .download import DAVIS_DEST, DAVIS_URL, DownloadError
from .inpaint import METHODS
from .runs import RunFolder
{%- if cookiecutter.include_sam2 == 'yes' %}
from .sam2_masks import MissingGroupError
{%- endif %}
from .smoke import N_FRAMES, N_SCENES
from .space import SpaceError
from .track import TRACKERS, GuiUnavailableError, select_box

log = logging.getLogger(__package__)
{%- if cookiecutter.include_sam2 == 'yes' %}
MASK_SOURCES = ("tracker", "sam2")
# Errors that are the user's to fix: reported in one line, exit code 2.
USER_ERRORS = (
    ValueError,
    FileNotFoundError,
    GuiUnavailableError,
    MissingGroupError,
    DownloadError,
    DemoUnavailable,
    SpaceError,
)
{%- else %}
MASK_SOURCES = ("tracker",)
# Errors that are the user's to fix: reported in one line, exit code 2.
USER_ERRORS = (
    ValueError,
    FileNotFoundError,
    GuiUnavailableError,
    DownloadError,
    DemoUnavailable,
    SpaceError,
)
{%- endif %}


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, sort_keys=False))


def _finish(report: dict[str, Any], path: str | Path | None = None) -> int:
    """Save the report (when ``path`` is given), say which targets were met on stderr, print
    it as the last stdout line, and return the exit code: 0 when ok, 1 when a target is missed."""
    from .targets import describe, emit

    if path:
        _save(report, str(path))
    print(describe(report), file=sys.stderr)
    return emit(report)


def _run_folder(folder: str | Path, config: dict[str, Any]) -> RunFolder:
    """The run folder ``folder`` (e.g. runs/smoke), staged beside it until the run finishes."""
    folder = Path(folder)
    return RunFolder(folder.name, config, root=folder.parent)


def cmd_smoke(args: argparse.Namespace) -> int:
    from .smoke import run_smoke

    config = {
        "command": "smoke",
        "seed": args.seed,
        "scenes": args.scenes,
        "frames": args.frames,
        "tracker": "csrt",
        "masks": f"boxes dilated {DEFAULT_DILATE_PX} px",
        "dilate_px": DEFAULT_DILATE_PX,
        "radius": DEFAULT_RADIUS,
        "method": "temporal-median",
    }
    with _run_folder(args.out, config) as run:
        report = run_smoke(
            out_dir=run.staging,
            seed=args.seed,
            n_scenes=args.scenes,
            n_frames=args.frames,
            log_row=run.log,
        )
        folder = run.finish(report)
    log.info("wrote the run folder %s (make report draws it)", folder)
    return _finish(report)


def cmd_report(args: argparse.Namespace) -> int:
    from .report import make_report
    from .runs import latest_run

    folder = Path(args.run) if args.run else latest_run()
    _emit(make_report(folder, readme=Path(args.readme), figures=Path(args.figures)))
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from .synthetic import make_clip
    from .video import write_video

    clip = make_clip(args.seed, args.scene, n_frames=args.frames)
    path = write_video(args.output, clip.frames, clip.fps)
    mask_path = path.with_name(path.stem + "_mask.png")
    cv2.imwrite(str(mask_path), clip.masks[0].astype(np.uint8) * 255)
    bbox = ",".join(str(v) for v in clip.boxes[0])
    log.info(
        "try: python -m %s remove %s --bbox %s --method temporal-median", __package__, path, bbox
    )
    _emit(
        {"video": str(path), "first_mask": str(mask_path), "frames": len(clip.frames), "bbox": bbox}
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import build_app
    from .demo_server import serve

    run = Path(args.run) if args.run else None
    return serve(lambda: build_app(run), args.port)


def cmd_space(args: argparse.Namespace) -> int:
    from .demo import RUN_FILES, load_settings
    from .runs import latest_run
    from .space import build_space, project_folder

    run = Path(args.run) if args.run else latest_run()
    load_settings(run)  # the run the Space would load: refused here, not on the Space
    pyproject = project_folder() / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    out = build_space(
        run=run,
        run_files=RUN_FILES,
        out=Path(args.out),
        title=f"{project['name']}: remove an object from a video",
        description=project.get("description", ""),
    )
    log.info("push %s to a Gradio Space (README: Live demo)", out)
    _emit({"space": str(out), "run": str(run), "files": sorted(p.name for p in out.iterdir())})
    return 0


def _initial_box(args: argparse.Namespace, first_frame: np.ndarray) -> Box:
    """The box from --bbox, --first-mask, or the GUI selector (--select)."""
    given = [args.bbox is not None, args.first_mask is not None, args.select]
    if sum(given) != 1:
        raise ValueError("give exactly one of --bbox x,y,w,h, --first-mask PNG or --select")
    if args.bbox is not None:
        return parse_bbox(args.bbox)
    if args.first_mask is not None:
        from .video import object_mask, read_annotation

        labels = read_annotation(args.first_mask)
        if labels.shape != first_frame.shape[:2]:
            raise ValueError(
                f"mask {args.first_mask} is {labels.shape[1]}x{labels.shape[0]}, "
                f"the video {first_frame.shape[1]}x{first_frame.shape[0]}"
            )
        box = box_from_mask(object_mask(labels, args.object_id))
        if box is None:
            raise ValueError(f"{args.first_mask} has no object pixels")
        return box
    return select_box(first_frame)


def cmd_remove(args: argparse.Namespace) -> int:
    from .pipeline import remove_object
    from .video import read_video, write_video

    frames, fps = read_video(args.input, max_frames=args.max_frames)
    box = _initial_box(args, frames[0])
    log.info(
        "%d frames of %dx%d, initial box %s", len(frames), frames.shape[2], frames.shape[1], box
    )
    segmentation: np.ndarray | None = None
{%- if cookiecutter.include_sam2 == 'yes' %}
    if args.masks == "sam2":
        from .sam2_masks import sam2_masks

        segmentation = sam2_masks(frames, box)
{%- endif %}
    result = remove_object(
        frames,
        None if segmentation is not None else box,
        tracker=args.tracker,
        method=args.method,
        dilate_px=args.dilate,
        radius=args.radius,
        window=args.window,
        segmentation=segmentation,
    )
    output = write_video(args.output, result.frames, fps)
    if args.save_masks:
        mask_dir = Path(args.save_masks)
        mask_dir.mkdir(parents=True, exist_ok=True)
        for t, mask in enumerate(result.masks):
            cv2.imwrite(str(mask_dir / f"{t:05d}.png"), mask)
    log.info("wrote %s (track %.1f fps, fill %.1f fps)", output, result.track_fps, result.fill_fps)
    _emit(
        {
            "output": str(output),
            "frames": len(result.frames),
            "masks": args.masks,
            "tracker": args.tracker if segmentation is None else None,
            "method": args.method,
            "lost_frames": sum(b is None for b in result.boxes),
            "track_fps": None if segmentation is not None else round(result.track_fps, 2),
            "fill_fps": round(result.fill_fps, 2),
        }
    )
    return 0


def cmd_fetch_davis(args: argparse.Namespace) -> int:
    from .download import fetch_davis

    _emit(fetch_davis(Path(args.dest), args.url, force=args.force, keep_archive=args.keep_archive))
    return 0


def _sequences(args: argparse.Namespace) -> list[str]:
    from .video import davis_sequences

    return _csv(args.sequences) if args.sequences else davis_sequences(args.davis_root, args.split)


def _save(result: dict[str, Any], path: str | None) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(result, indent=2) + "\n")
        log.info("wrote %s", path)


def _bench_config(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "davis_root": str(args.davis_root),
        "split": args.split,
        "sequences": args.sequences,
        "max_frames": args.max_frames,
        "seed": None,  # nothing random: DAVIS and the OpenCV methods are deterministic
    }


def _finish_bench(
    run: RunFolder, result: dict[str, Any], report: dict[str, Any], args: argparse.Namespace
) -> None:
    """Log one history row per sequence and method, keep every sequence's numbers
    (details.json) and move the run folder (--run) into place; --output and --details, when
    given, get a copy of the report and of details.json."""
    for sequence, methods in result["sequences"].items():
        for method, scores in methods.items():
            run.log(sequence=sequence, method=method, **scores)
    _save(result, str(run.path("details.json")))
    folder = run.finish(report)
    for given, name in ((args.output, "report.json"), (args.details, "details.json")):
        if given and Path(given).resolve() != (folder / name).resolve():
            _save(report if name == "report.json" else result, given)


def cmd_bench_track(args: argparse.Namespace) -> int:
    from .evaluate import bench_trackers, track_report

    started = time.perf_counter()
    trackers = list(dict.fromkeys(_csv(args.trackers)))  # each once, in the order given
    unknown = [t for t in trackers if t not in TRACKERS]
    if unknown or not trackers:
        raise ValueError(f"unknown tracker(s) {unknown}; choose from {', '.join(TRACKERS)}")
    config = {"command": "bench-track", "trackers": trackers, **_bench_config(args)}
    with _run_folder(args.run, config) as run:
        result = bench_trackers(args.davis_root, _sequences(args), trackers, args.max_frames)
        # The first tracker named is the one judged (the project's default comes first).
        report = track_report(result, trackers[0], started)
        _finish_bench(run, result, report, args)
    return _finish(report)


def cmd_bench_inpaint(args: argparse.Namespace) -> int:
    from .evaluate import bench_inpainting, inpaint_report

    started = time.perf_counter()
    methods = _csv(args.methods)
    unknown = [m for m in [*methods, args.candidate] if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    # Telea is the baseline every candidate is judged against: always measure it.
    methods = list(dict.fromkeys(["telea", *methods, args.candidate]))
    if args.protocol == "e2fgvi":
        if not args.masks_root:
            raise ValueError("--protocol e2fgvi needs --masks-root (E2FGVI's DAVIS test masks)")
        sequences = (
            _csv(args.sequences)
            if args.sequences
            else sorted(p.name for p in Path(args.masks_root).iterdir() if p.is_dir())
        )
    else:
        sequences = _sequences(args)
    config = {
        "command": "bench-inpaint",
        "methods": methods,
        "candidate": args.candidate,
        "protocol": args.protocol,
        "masks_root": args.masks_root,
        "dilate": args.dilate,
        **_bench_config(args),
    }
    with _run_folder(args.run, config) as run:
        result = bench_inpainting(
            args.davis_root,
            sequences,
            methods,
            protocol=args.protocol,
            masks_root=args.masks_root,
            max_frames=args.max_frames,
            dilate_px=args.dilate,
        )
        report = inpaint_report(result, args.candidate, started)
        _finish_bench(run, result, report, args)
    return _finish(report)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}", description=__doc__.split("\n")[0]
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("smoke", help="offline end-to-end run on synthetic scenes")
    p.add_argument(
        "--out", default="runs/smoke", help="the run folder (report, history, config, mp4 files)"
    )
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="draws the scenes (default: config.py)"
    )
    p.add_argument("--scenes", type=int, default=N_SCENES, help="how many scenes to score")
    p.add_argument("--frames", type=int, default=N_FRAMES, help="frames per scene")
    p.set_defaults(func=cmd_smoke)

    p = sub.add_parser("report", help="figures and the README's Results section from a run")
    p.add_argument("run", nargs="?", help="a run folder (default: the latest in runs/)")
    p.add_argument("--readme", default="README.md", help="the README whose Results it writes")
    p.add_argument("--figures", default="figures", help="the folder for the figures")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("synth", help="write a synthetic clip as an mp4, its first mask as a PNG")
    p.add_argument("output", help="mp4 path to write")
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="draws the scene (default: config.py)"
    )
    p.add_argument("--scene", type=int, default=0, help="which scene of the seed")
    p.add_argument("--frames", type=int, default=N_FRAMES)
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("demo", help="serve the web demo over a run (make setup-demo first)")
    p.add_argument("--run", help="the run folder whose settings it uses (default: the latest)")
    p.add_argument(
        "--port", type=int, help="default: GRADIO_SERVER_PORT, else 7860 (on 127.0.0.1 only)"
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("space", help="a Hugging Face Space of the demo, from a run")
    p.add_argument("--run", help="the run folder it bundles (default: the latest)")
    p.add_argument("--out", default="dist/space", help="the folder to write (default: %(default)s)")
    p.set_defaults(func=cmd_space)

    p = sub.add_parser("remove", help="erase an object from a video")
    p.add_argument(
        "input", help="a video file or a folder of frames (e.g. DAVIS JPEGImages/480p/bear)"
    )
    p.add_argument("--bbox", help="the object's box on the first frame: x,y,w,h")
    p.add_argument(
        "--first-mask", help="an annotation PNG of the first frame (e.g. DAVIS 00000.png)"
    )
    p.add_argument("--object-id", type=int, help="which object of --first-mask (default: all)")
    p.add_argument(
        "--select", action="store_true", help="draw the box in a window (needs a GUI OpenCV)"
    )
    p.add_argument(
        "--masks",
        choices=MASK_SOURCES,
        default="tracker",
{%- if cookiecutter.include_sam2 == 'yes' %}
        help="where hole masks come from: tracked boxes, or SAM 2 segmentation (group sam2)",
{%- else %}
        help="where hole masks come from (tracked boxes)",
{%- endif %}
    )
    p.add_argument("--tracker", choices=tuple(TRACKERS), default=DEFAULT_TRACKER)
    p.add_argument("--method", choices=METHODS, default=DEFAULT_INPAINTER)
    p.add_argument(
        "--dilate", type=int, default=DEFAULT_DILATE_PX, help="pixels added around the mask"
    )
    p.add_argument("--radius", type=int, default=DEFAULT_RADIUS, help="cv2.inpaint radius")
    p.add_argument("--window", type=int, help="temporal-median: frames either side (default: all)")
    p.add_argument("--max-frames", type=int, help="read at most this many frames")
    p.add_argument("--save-masks", help="folder to write the hole masks as PNG")
    p.add_argument("-o", "--output", default="runs/removed.mp4", help="mp4 path to write")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("fetch-davis", help="download and unpack DAVIS 2017 480p, atomically")
    p.add_argument(
        "--dest", default=str(DAVIS_DEST), help="the folder to make (default: %(default)s)"
    )
    p.add_argument(
        "--url",
        default=DAVIS_URL,
        help="the trainval 480p zip; a file:// URL uses a copy you already have",
    )
    p.add_argument("--force", action="store_true", help="replace an existing folder")
    p.add_argument(
        "--keep-archive", action="store_true", help="keep the zip beside the folder afterwards"
    )
    p.set_defaults(func=cmd_fetch_davis)

    for name, func, helptext in (
        ("bench-track", cmd_bench_track, "DAVIS 2017 semi-supervised J and F, boxes as masks"),
        ("bench-inpaint", cmd_bench_inpaint, "fill methods on DAVIS (E2FGVI protocol or borrowed)"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--davis-root", default="data/DAVIS", help="the unpacked DAVIS folder")
        p.add_argument("--split", default="val", help="ImageSets/2017/<split>.txt")
        p.add_argument("--sequences", help="comma-separated names (default: the whole split)")
        p.add_argument(
            "--max-frames", type=int, help="first N frames of each sequence (off the protocol)"
        )
        p.add_argument(
            "--run",
            default=f"runs/{name}",
            help="the run folder: report.json, details.json (every sequence's numbers), "
            "history.jsonl, config.json, environment.json (default: %(default)s)",
        )
        p.add_argument("--output", help="a copy of the report elsewhere")
        p.add_argument("--details", help="a copy of details.json elsewhere")
        p.set_defaults(func=func)
        if name == "bench-track":
            order = [DEFAULT_TRACKER, *(t for t in TRACKERS if t != DEFAULT_TRACKER)]
            p.add_argument(
                "--trackers", default=",".join(order), help="the first one named is judged"
            )
        else:
            p.add_argument("--methods", default=",".join(METHODS))
            p.add_argument(
                "--candidate", default="temporal-median", help="the method judged against Telea"
            )
            p.add_argument(
                "--protocol",
                choices=("borrowed", "e2fgvi"),
                default="borrowed",
                help="e2fgvi: the published DAVIS protocol (needs --masks-root); "
                "borrowed: this starter's own holes",
            )
            p.add_argument("--masks-root", help="E2FGVI's DAVIS test_masks folder")
            p.add_argument("--dilate", type=int, default=DEFAULT_DILATE_PX, help="borrowed holes")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        code: int = args.func(args)  # each command returns its exit code
        return code
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    from .runs import exit_with

    exit_with(main)
