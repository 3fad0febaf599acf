"""Exceptions raised by the registry package.

RegistryError
├── RegistryUnavailableError   the tracking server or store cannot be reached
├── RegistryConfigError        params.yaml or the golden set it names is unusable
├── VersionNotFoundError       no such registered model, version or alias
├── ArtifactError              a version's GGUF is missing or fails its sha256
├── RollbackError              the audit trail holds no earlier version to go back to
└── SignatureError             a webhook delivery is unsigned, forged, stale or replayed
"""

from __future__ import annotations


class RegistryError(Exception):
    """Base class of every error the registry package raises."""


class RegistryUnavailableError(RegistryError):
    """The MLflow tracking store could not be reached or opened."""


class RegistryConfigError(RegistryError):
    """A registry setting in params.yaml, or the golden set it names, is unusable."""


class VersionNotFoundError(RegistryError):
    """The registered model, version or alias does not exist."""


class ArtifactError(RegistryError):
    """A model version's artifact is missing or does not match its sha256 tag."""


class RollbackError(RegistryError):
    """There is no earlier version of the alias to roll back to."""


class SignatureError(RegistryError):
    """A webhook delivery failed authentication; nothing in it may be acted on."""
