"""Exceptions raised by the registry package.

RegistryError
├── RegistryUnavailableError   the tracking server or store cannot be reached
├── VersionNotFoundError       no such registered model, version or alias
└── ArtifactError              a version's GGUF is missing or fails its sha256
"""

from __future__ import annotations


class RegistryError(Exception):
    """Base class of every error the registry package raises."""


class RegistryUnavailableError(RegistryError):
    """The MLflow tracking store could not be reached or opened."""


class VersionNotFoundError(RegistryError):
    """The registered model, version or alias does not exist."""


class ArtifactError(RegistryError):
    """A model version's artifact is missing or does not match its sha256 tag."""
