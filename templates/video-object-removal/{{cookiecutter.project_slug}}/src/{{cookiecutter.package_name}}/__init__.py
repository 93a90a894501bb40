"""Remove an object from a video: track it from one box, mask it, fill the hole.

Modules: ``synthetic`` (a clip with a known background), ``video`` (I/O, DAVIS), ``boxes``,
``track`` (OpenCV trackers), ``masks``, ``inpaint``, ``metrics``, ``pipeline`` (the whole
chain), ``smoke`` (the offline end-to-end check), ``__main__`` (the command line).
"""

__version__ = "0.1.0"
