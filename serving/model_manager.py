"""The model manager: resolve the alias, vet the version, load it, swap it in.

A version is loaded only when its ``gate`` tag is ``passed`` and its GGUF,
copied into the content-addressed cache, hashes to its ``sha256`` tag.
Anything else is refused and the model already serving keeps serving.

A swap loads the new model beside the old one and then replaces a single
reference. Requests check a model out for their whole generation, so those in
flight finish on the old model, which is closed when its last request ends.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from enum import StrEnum

import structlog

from registry.errors import ArtifactError, RegistryUnavailableError
from serving.cache import ModelCache, VettedModel
from serving.engine import LlamaEngine
from serving.errors import ModelRefusedError, NotReadyError
from serving.llama_server import LlamaServerEngine
from serving.metrics import ServingMetrics
from serving.settings import ServingSettings

log = structlog.get_logger("serving")


class Outcome(StrEnum):
    """What one refresh did."""

    SWAPPED = "swapped"
    UNCHANGED = "unchanged"
    REFUSED = "refused"
    NO_ALIAS = "no_alias"
    REGISTRY_UNAVAILABLE = "registry_unavailable"


class ServedModel:
    """A vetted model with its engine, closed once retired and no longer in use."""

    def __init__(
        self, info: VettedModel, engine: LlamaEngine | LlamaServerEngine, source: str
    ) -> None:
        self.info = info
        self.engine = engine
        self.source = source
        self._users = 0
        self._retired = False
        self._lock = threading.Lock()

    def check_out(self) -> ServedModel:
        with self._lock:
            self._users += 1
        return self

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            close = self._retired and self._users == 0
        if close:
            self.engine.close()

    def retire(self) -> None:
        with self._lock:
            self._retired = True
            close = self._users == 0
        if close:
            self.engine.close()


@dataclass(frozen=True)
class Refusal:
    """The last version refused, and why, for /ready and the refresh endpoint."""

    version: str
    sha256: str
    reason: str
    # The engine, not the version, was at fault: try again at the next refresh.
    retryable: bool = False


class ModelManager:
    """Keeps the vetted model behind the alias loaded, swapping when it moves."""

    def __init__(
        self, settings: ServingSettings, metrics: ServingMetrics | None = None
    ) -> None:
        self.settings = settings
        self.metrics = metrics or ServingMetrics()
        self.cache = ModelCache(settings.model_cache_dir)
        self.registry_reachable: bool | None = None
        self.last_refusal: Refusal | None = None
        self.alias_missing = False
        # True once the first load attempt is over, whatever its outcome.
        self.first_load_done = False
        self._current: ServedModel | None = None
        self._refresh_lock = threading.Lock()

    @property
    def current(self) -> ServedModel | None:
        return self._current

    def check_out(self) -> ServedModel:
        """The model serving now, held until ``release``; NotReadyError if none."""
        served = self._current
        if served is None:
            raise NotReadyError(self.not_ready_reason())
        return served.check_out()

    def generation_slots(self) -> int:
        """How many generations the engine serving now can run at once."""
        served = self._current
        return served.engine.slots if served else 1

    def require_ready(self) -> None:
        """Raise NotReadyError unless a vetted model is loaded."""
        if self._current is None:
            raise NotReadyError(self.not_ready_reason())

    def not_ready_reason(self) -> str:
        uri = self.settings.model_uri
        if self.registry_reachable is False:
            return (
                f"the registry is unreachable and no vetted model is cached; "
                f"check MLFLOW_TRACKING_URI, then wait for {uri} to load"
            )
        if self.alias_missing:
            return f"no model version carries {uri}; promote a vetted version"
        if self.last_refusal is not None and self.last_refusal.retryable:
            return (
                f"version {self.last_refusal.version} behind {uri} cannot be "
                f"served yet: {self.last_refusal.reason}"
            )
        if self.last_refusal is not None:
            return (
                f"version {self.last_refusal.version} behind {uri} was refused "
                f"({self.last_refusal.reason}); point the alias at a vetted version"
            )
        return f"{uri} is still loading; retry shortly"

    def start(self) -> Outcome:
        """First load: from the registry, else from the last vetted model cached."""
        try:
            outcome = self.refresh()
            if self._current is None and outcome in (
                Outcome.REGISTRY_UNAVAILABLE,
                Outcome.REFUSED,
            ):
                self._load_last_vetted()
        finally:
            self.first_load_done = True
        return outcome

    def refresh(self) -> Outcome:
        """Follow the alias once; swap to its version if it is new and vetted."""
        with self._refresh_lock:
            try:
                version = self._resolve()
            except RegistryUnavailableError as exc:
                self.registry_reachable = False
                log.warning("model.registry_unavailable", reason=str(exc))
                return Outcome.REGISTRY_UNAVAILABLE

            self.registry_reachable = True
            self.alias_missing = version is None
            if version is None:
                log.warning("model.alias_missing", model_uri=self.settings.model_uri)
                return Outcome.NO_ALIAS
            return self._follow(version)

    def _resolve(self):
        from registry.store import connect
        from registry.versions import get_alias_version

        # A SQLite URI naming no file is a wrong setting, not an empty registry.
        client = connect(self.settings.mlflow_tracking_uri, create=False)
        return get_alias_version(
            client, self.settings.model_name, self.settings.model_alias
        )

    def _follow(self, version) -> Outcome:
        current = self._current
        tag_sha = version.tags.get("sha256", "")
        if current and (current.info.version, current.info.sha256) == (
            str(version.version),
            tag_sha,
        ):
            if current.source != "registry":
                current.source = "registry"
                self._announce(current, None)
            return Outcome.UNCHANGED

        refusal = self.last_refusal
        if refusal and not refusal.retryable:
            same = (refusal.version, refusal.sha256) == (str(version.version), tag_sha)
            if same:
                return Outcome.REFUSED

        try:
            served = self._vet_and_load(version)
        except ModelRefusedError as exc:
            self._refuse(version, tag_sha, exc)
            return Outcome.REFUSED
        self._swap(served)
        return Outcome.SWAPPED

    def _vet_and_load(self, version) -> ServedModel:
        from registry.versions import local_artifact

        tags = version.tags
        if tags.get("gate") != "passed":
            raise ModelRefusedError(f"its gate is '{tags.get('gate', 'missing')}'")
        if not tags.get("sha256"):
            raise ModelRefusedError("it has no sha256 tag to verify its GGUF against")

        try:
            artifact = local_artifact(version)
        except ArtifactError as exc:
            raise ModelRefusedError("its GGUF artifact cannot be fetched") from exc
        path = self.cache.store(artifact, tags["sha256"])
        info = VettedModel(
            name=self.settings.model_name,
            version=str(version.version),
            sha256=tags["sha256"],
            golden_score=_score(tags),
            path=path,
        )
        return ServedModel(info, self._load_engine(info), source="registry")

    def _load_engine(self, info: VettedModel) -> LlamaEngine | LlamaServerEngine:
        if self.settings.llama_server_url:
            return LlamaServerEngine.from_settings(info, self.settings)
        return LlamaEngine(
            info.path,
            n_ctx=self.settings.llm_context_size,
            n_gpu_layers=self.settings.llama_n_gpu_layers,
            n_threads=self.settings.llama_n_threads,
            parallel=self.settings.llama_n_parallel,
        )

    def _refuse(self, version, tag_sha: str, exc: ModelRefusedError) -> None:
        self.last_refusal = Refusal(
            str(version.version), tag_sha, exc.message, exc.retryable
        )
        self.metrics.swaps.labels("refused").inc()
        kept = self._current.info.version if self._current else None
        log.warning(
            "model.refused",
            model_version=str(version.version),
            sha256=tag_sha,
            reason=exc.message,
            cause=repr(exc.__cause__) if exc.__cause__ else None,
            kept_version=kept,
        )

    def _swap(self, served: ServedModel) -> None:
        previous, self._current = self._current, served
        self.last_refusal = None
        self.cache.remember(served.info)
        self._announce(served, previous)
        if previous is not None:
            previous.retire()

    def _announce(self, served: ServedModel, previous: ServedModel | None) -> None:
        info = served.info
        self.metrics.set_model(
            info.name, info.version, info.sha256, info.golden_score, served.source
        )
        self.metrics.swaps.labels("loaded" if previous is None else "swapped").inc()
        log.info(
            "model.serving",
            model_version=info.version,
            sha256=info.sha256,
            golden_score=info.golden_score,
            source=served.source,
            previous_version=previous.info.version if previous else None,
        )

    def _load_last_vetted(self) -> None:
        info = self.cache.last_vetted()
        if info is None or info.name != self.settings.model_name:
            return
        try:
            engine = self._load_engine(info)
        except ModelRefusedError as exc:
            log.warning("model.cache_load_failed", sha256=info.sha256, reason=str(exc))
            return
        with self._refresh_lock:
            if self._current is None:
                self._swap(ServedModel(info, engine, source="cache"))
                return
        engine.close()

    async def poll(self) -> None:
        """Refresh every MODEL_POLL_INTERVAL_SECONDS until cancelled."""
        interval = self.settings.model_poll_interval_seconds
        while interval > 0:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:  # keep polling; the current model keeps serving
                log.exception("model.poll_failed")

    def close(self) -> None:
        """Retire the current model; it closes once its last request ends."""
        served, self._current = self._current, None
        if served is not None:
            served.retire()


def _score(tags: dict) -> float:
    try:
        return float(tags.get("golden_score", "nan"))
    except ValueError:
        return float("nan")
