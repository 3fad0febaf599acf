"""The registered versions of a model, as rows for `yonca registry list`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from registry.versions import MODEL_ARTIFACT_PATH

NOT_RECORDED = "-"


@dataclass(frozen=True)
class VersionRow:
    """What a person compares between versions, all as display text."""

    version: str
    base_model: str
    fine_tune: str
    quantization: str
    file: str
    size: str
    sha256: str
    created: str
    aliases: str
    golden_score: str
    gate: str


def version_rows(client, model_name: str) -> list[VersionRow]:
    """One row per version of ``model_name``, newest first."""
    versions = client.search_model_versions(f"name = '{model_name}'")
    ordered = sorted(versions, key=lambda v: int(v.version), reverse=True)
    aliases = _aliases_by_version(client, model_name) if versions else {}
    return [
        _row(client, version, aliases.get(str(version.version), []))
        for version in ordered
    ]


def _aliases_by_version(client, model_name: str) -> dict[str, list[str]]:
    """Aliases per version; version searches leave them out on SQL stores."""
    by_version: dict[str, list[str]] = {}
    for alias, number in client.get_registered_model(model_name).aliases.items():
        by_version.setdefault(str(number), []).append(alias)
    return by_version


def _row(client, version, aliases: list[str]) -> VersionRow:
    tags = version.tags
    return VersionRow(
        version=str(version.version),
        base_model=tags.get("base_model", NOT_RECORDED),
        fine_tune=tags.get("fine_tune", NOT_RECORDED),
        quantization=tags.get("quantization", NOT_RECORDED),
        file=tags.get("file") or _artifact_name(client, version),
        size=_size(tags.get("size_bytes")),
        sha256=tags.get("sha256", NOT_RECORDED)[:12],
        created=_created(version.creation_timestamp),
        aliases=", ".join(sorted(aliases)),
        golden_score=_score(tags.get("golden_score")),
        gate=tags.get("gate", NOT_RECORDED),
    )


def _artifact_name(client, version) -> str:
    """The GGUF's file name, for versions registered before the ``file`` tag."""
    try:
        listed = client.list_artifacts(version.run_id, MODEL_ARTIFACT_PATH)
    except Exception:  # a vanished run or store must not break the listing
        return NOT_RECORDED
    names = [item.path.rsplit("/", 1)[-1] for item in listed]
    return next((name for name in names if name.endswith(".gguf")), NOT_RECORDED)


def _size(size_bytes: str | None) -> str:
    if not size_bytes or not size_bytes.isdigit():
        return NOT_RECORDED
    value = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return NOT_RECORDED


def _created(timestamp_ms: int | None) -> str:
    if not timestamp_ms:
        return NOT_RECORDED
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M")


def _score(tag: str | None) -> str:
    """The score to three places, rounded as the decision lines round it."""
    if tag is None:
        return NOT_RECORDED
    try:
        return f"{float(tag):.3f}"
    except ValueError:
        return tag
