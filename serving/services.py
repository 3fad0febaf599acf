"""What one app instance shares between its routes."""

from __future__ import annotations

from dataclasses import dataclass

from serving.metrics import ServingMetrics
from serving.model_manager import ModelManager
from serving.queue import GenerationQueue
from serving.settings import ServingSettings


@dataclass
class Services:
    """The settings, the model manager, the queue and the metrics of one app."""

    settings: ServingSettings
    manager: ModelManager
    queue: GenerationQueue
    metrics: ServingMetrics
