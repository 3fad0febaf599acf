"""Check that an alias stands on a version that still deserves it."""

from __future__ import annotations

from dataclasses import dataclass

from registry.config import RegistryConfig
from registry.promotion import failed_rules
from registry.versions import get_alias_version


@dataclass(frozen=True)
class AliasCheck:
    """Which version an alias points at and the rules that version breaks."""

    alias: str
    model_version: str | None
    failures: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the alias is set and its version breaks no rule."""
        return self.model_version is not None and not self.failures


def check_alias(client, config: RegistryConfig, alias: str | None = None) -> AliasCheck:
    """Re-check the gate, golden set and artifact hash of the alias's version."""
    alias = alias or config.alias
    version = get_alias_version(client, config.model_name, alias)
    if version is None:
        return AliasCheck(alias, None, (f"alias-set: '{alias}' points at nothing",))
    failures = failed_rules(version, config.golden_set_sha256(), config.threshold)
    return AliasCheck(alias, str(version.version), tuple(failures))
