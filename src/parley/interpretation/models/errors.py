"""The one error of model installation: it says what went wrong and what to do."""

from __future__ import annotations

from parley.errors import ParleyError


class ModelInstallError(ParleyError):
    """A model could not be installed (unreachable hub, bad checksum, no room, unknown name)."""
