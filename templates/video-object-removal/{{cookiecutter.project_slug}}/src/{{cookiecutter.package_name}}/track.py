"""Single-object trackers from OpenCV (contrib), and the interactive box selector.

``opencv-contrib-python-headless`` provides CSRT (accurate, slowest), KCF (fast, no scale
change) and MIL (robust but loose). A tracker is started from one box on the first frame and
reports a box, or a loss, on every later frame.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .boxes import Box, clip_box

TRACKERS: dict[str, Callable[[], cv2.Tracker]] = {
    "csrt": lambda: cv2.TrackerCSRT.create(),
    "kcf": lambda: cv2.TrackerKCF.create(),
    "mil": lambda: cv2.TrackerMIL.create(),
}


class GuiUnavailableError(RuntimeError):
    """OpenCV was built without a GUI backend, so no window can be opened."""


@dataclass(frozen=True)
class TrackResult:
    """``boxes[t]`` is the box on frame ``t`` (``None`` where the tracker lost the object;
    frame 0 holds the initial box); ``fps`` counts update calls per second of wall time."""

    boxes: list[Box | None]
    fps: float

    @property
    def lost_frames(self) -> int:
        """How many frames the tracker reported as lost."""
        return sum(b is None for b in self.boxes)


def create_tracker(name: str) -> cv2.Tracker:
    """A fresh OpenCV tracker by name (``csrt``, ``kcf``, ``mil``; case-insensitive).

    Raises ``ValueError`` for an unknown name, ``RuntimeError`` when the installed OpenCV lacks
    the contrib trackers (the plain ``opencv-python`` wheel was installed instead).
    """
    key = name.lower()
    if key not in TRACKERS:
        raise ValueError(f"unknown tracker {name!r}; choose one of {', '.join(TRACKERS)}")
    try:
        return TRACKERS[key]()
    except AttributeError:
        raise RuntimeError(
            f"this OpenCV has no {key.upper()} tracker: install opencv-contrib-python-headless "
            "(and uninstall any other opencv wheel)"
        ) from None


def track(
    frames: Sequence[np.ndarray] | np.ndarray, init_box: Box, name: str = "csrt"
) -> TrackResult:
    """Track the object inside ``init_box`` (on ``frames[0]``) through every frame.

    Returned boxes are clipped to the frame; a lost frame gives ``None`` and the tracker keeps
    trying on the next ones.
    """
    if len(frames) == 0:
        raise ValueError("no frames to track")
    height, width = frames[0].shape[:2]
    init_box = clip_box(init_box, width, height)
    tracker = create_tracker(name)
    tracker.init(frames[0], init_box)
    boxes: list[Box | None] = [init_box]
    start = time.perf_counter()
    for frame in frames[1:]:
        ok, raw = tracker.update(frame)
        box: Box | None = None
        if ok:
            x, y, w, h = (int(round(v)) for v in raw)
            try:
                box = clip_box((x, y, max(1, w), max(1, h)), width, height)
            except ValueError:
                box = None
        boxes.append(box)
    elapsed = time.perf_counter() - start
    fps = (len(frames) - 1) / elapsed if elapsed > 0 else float("inf")
    return TrackResult(boxes=boxes, fps=fps)


def fill_lost(boxes: Sequence[Box | None]) -> list[Box]:
    """Replace lost boxes by the nearest earlier box (or the first later one at the start).

    Raises ``ValueError`` when every box is lost.
    """
    known = [b for b in boxes if b is not None]
    if not known:
        raise ValueError("the tracker lost the object on every frame")
    out: list[Box] = []
    last = known[0]
    for b in boxes:
        last = b if b is not None else last
        out.append(last)
    return out


def has_gui() -> bool:
    """Whether this OpenCV build can open windows (the headless wheels cannot)."""
    match = re.search(r"^\s*GUI:\s*(\S+)", cv2.getBuildInformation(), flags=re.MULTILINE)
    return match is not None and match.group(1).upper() != "NONE"


def select_box(frame: np.ndarray, window: str = "select the object, then press ENTER") -> Box:
    """Let the user draw the box on ``frame`` with ``cv2.selectROI``.

    Raises ``GuiUnavailableError`` on a build without a GUI (the headless wheel this project
    installs), with a one-line message telling the user to pass ``--bbox x,y,w,h``; raises
    ``ValueError`` when the selection is empty (cancelled).
    """
    if not has_gui():
        raise GuiUnavailableError(
            "this OpenCV has no GUI (headless wheel): pass the box as --bbox x,y,w,h"
        )
    x, y, w, h = (int(v) for v in cv2.selectROI(window, frame, showCrosshair=True))
    cv2.destroyWindow(window)
    if w <= 0 or h <= 0:
        raise ValueError("no box selected")
    return x, y, w, h
