"""The category-regression rule: no golden-set category may fall too far.

A candidate is compared with the version now in production, category by
category, using the ``category.<name>`` metrics of each version's evaluation
run. The comparison only means something when both were scored on the same
golden set, so versions from different golden sets are not compared, and
categories that only one of the two evaluated are skipped.
"""

from __future__ import annotations

RULE = "category-regression"


def category_scores(client, version) -> dict[str, float]:
    """Per-category golden scores from the version's evaluation run."""
    run = client.get_run(version.tags["eval_run_id"])
    return {
        name.removeprefix("category."): value
        for name, value in run.data.metrics.items()
        if name.startswith("category.")
    }


def regression_failures(client, version, baseline, max_drop: float) -> list[str]:
    """Why ``version`` regresses against ``baseline``; empty when it does not."""
    if baseline is None or str(baseline.version) == str(version.version):
        return []
    same_set = baseline.tags.get("golden_set_sha256")
    if same_set != version.tags.get("golden_set_sha256"):
        return []
    try:
        candidate = category_scores(client, version)
        reference = category_scores(client, baseline)
    except Exception as exc:  # a deleted run or a missing tag: cannot compare
        return [
            f"{RULE}: category scores of version {version.version} or "
            f"{baseline.version} cannot be read ({type(exc).__name__}); "
            "re-register the version from a complete evaluation run"
        ]
    return _drops(candidate, reference, baseline.version, max_drop)


def _drops(candidate, reference, baseline_version, max_drop: float) -> list[str]:
    failures = []
    for category in sorted(candidate.keys() & reference.keys()):
        drop = reference[category] - candidate[category]
        if drop > max_drop + 1e-9:
            failures.append(
                f"{RULE}: '{category}' fell {drop:.3f} "
                f"({reference[category]:.3f} -> {candidate[category]:.3f}) against "
                f"production version {baseline_version}, more than {max_drop:.3f}"
            )
    return failures
