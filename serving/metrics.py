"""Prometheus metrics of the inference API, kept in a registry of their own.

A registry per app (rather than the process-wide default) lets tests and
benchmarks build several apps in one process without clashing names.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
RATE_BUCKETS = (1, 5, 10, 20, 40, 60, 100, 200, 500, 1000, 5000)


class ServingMetrics:
    """Every metric the service exports, under the ``yonca_`` prefix."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "yonca_http_requests",
            "HTTP requests answered, by route and status code.",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "yonca_http_request_duration_seconds",
            "Time from request to the last byte of the response, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tokens = Counter(
            "yonca_generated_tokens",
            "Completion tokens generated.",
            registry=self.registry,
        )
        self.tokens_per_second = Histogram(
            "yonca_generation_tokens_per_second",
            "Decoding rate of each generation.",
            buckets=RATE_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "yonca_queue_depth",
            "Requests waiting for the model.",
            registry=self.registry,
        )
        self.swaps = Counter(
            "yonca_model_swaps",
            "Models taken into service or refused, by outcome: loaded (the first "
            "since start), swapped (replacing another) or refused.",
            ["outcome"],
            registry=self.registry,
        )
        self.degraded_answers = Counter(
            "yonca_degraded_answers",
            "Answers given by the rule-based adviser instead of a model.",
            registry=self.registry,
        )
        self.model_info = Gauge(
            "yonca_model_info",
            "The model being served: 1 for the loaded version.",
            ["name", "version", "sha256", "golden_score", "source"],
            registry=self.registry,
        )

    def set_model(self, name, version, sha256, golden_score, source) -> None:
        """Point the model-info gauge at the version now serving."""
        self.model_info.clear()
        self.model_info.labels(
            name, str(version), sha256, f"{golden_score:.6f}", source
        ).set(1)

    def record_generation(self, tokens: int, seconds: float) -> None:
        self.tokens.inc(tokens)
        if seconds > 0 and tokens > 0:
            self.tokens_per_second.observe(tokens / seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
