"""mlstarter: ready-to-run starter repos for featured machine-learning projects."""

from __future__ import annotations

__version__ = "0.1.0"
