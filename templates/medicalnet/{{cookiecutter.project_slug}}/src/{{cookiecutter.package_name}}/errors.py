"""The errors a user can act on; the command line prints their message and exits with code 3."""

from __future__ import annotations


class Med3DError(Exception):
    """Base class: something the user can fix (a file, a download, a setting)."""


class WeightsError(Med3DError):
    """MedicalNet weights could not be found, read or matched to the model."""


class DataError(Med3DError):
    """The dataset could not be found, downloaded or read."""
