"""What one app instance shares between its routes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from serving.auth import TokenVerifier
from serving.metrics import ServingMetrics
from serving.model_manager import ModelManager
from serving.queue import GenerationQueue
from serving.rate_limit import RateLimiter
from serving.settings import DegradationLevel, ServingSettings


class AnswerSource(StrEnum):
    """Who answers the next request."""

    MODEL = "model"
    # DEGRADATION_LEVEL=rules_only: the operator chose the rules.
    RULES_CHOSEN = "rules_chosen"
    # No vetted model could be loaded, so the rules stand in for it.
    RULES_FALLBACK = "rules_fallback"


@dataclass
class Services:
    """The settings, the model manager, the queue and the metrics of one app."""

    settings: ServingSettings
    manager: ModelManager
    queue: GenerationQueue
    metrics: ServingMetrics
    limiter: RateLimiter
    verifier: TokenVerifier | None

    def answer_source(self) -> AnswerSource:
        """The model once loaded; the rules if chosen or once loading failed.

        While the first load is still under way the answer is MODEL, so that
        requests get a 503 "still loading" rather than rules a moment before
        the model would have answered.
        """
        if self.settings.degradation_level is DegradationLevel.RULES_ONLY:
            return AnswerSource.RULES_CHOSEN
        manager = self.manager
        if manager.current is None and manager.first_load_done:
            return AnswerSource.RULES_FALLBACK
        return AnswerSource.MODEL
