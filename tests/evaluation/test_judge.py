"""Optional judge metrics against a real OpenAI-compatible judge on loopback.

The judge (tests/evaluation/judge_server.py) answers ragas' own structured
prompts by rule: a sentence is supported when its context holds it word for
word. The candidates are scripted from the golden set, so every expected value
follows from the golden cases themselves.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from evaluation.errors import JudgeError
from evaluation.golden import load_golden_set
from evaluation.judge import JudgeSettings
from evaluation.runner import cli, evaluate
from evaluation.scoring import ScoreWeights
from tests.conftest import REPO
from tests.evaluation.judge_server import (
    JUDGE_MODEL,
    Traffic,
    candidate_app,
    judge_app,
    sentences,
)
from tests.evaluation.scripted import ScriptedBackend
from tests.support.servers import free_port, running_server

DATASET = REPO / "golden" / "dataset.jsonl"
CASES = load_golden_set(DATASET).cases[:4]
INVENTED = "Spray the field with endosulfan at noon."


def _faithful(case):
    return case.reference


def _inventive(case):
    return f"{case.reference} {INVENTED}"


def _evaluate(script, judge=None, **options):
    options.setdefault("limit", len(CASES))
    return evaluate(
        DATASET,
        backend=ScriptedBackend(CASES, script),
        threshold=0.85,
        progress=False,
        judge=judge,
        **options,
    )


@pytest.fixture
def judge():
    traffic = Traffic()
    with running_server(judge_app(traffic)) as url:
        yield url, traffic


def test_faithful_answer_scores_1_and_invented_fact_scores_lower(judge):
    url, traffic = judge
    settings = JudgeSettings(endpoint=url, concurrency=2)
    faithful = _evaluate(_faithful, settings)
    inventive = _evaluate(_inventive, settings)

    assert all(row["faithfulness"] == 1.0 for row in faithful["results"])
    assert all(row["factual_correctness"] == 1.0 for row in faithful["results"])
    for case, row in zip(CASES, inventive["results"], strict=True):
        stated = len(sentences(case.reference))
        assert row["faithfulness"] == round(stated / (stated + 1), 6)
        assert row["factual_correctness"] == round(2 * stated / (2 * stated + 1), 2)

    judged = inventive["summary"]["judge"]
    assert judged["faithfulness"] < faithful["summary"]["judge"]["faithfulness"]
    assert set(judged["by_category"]) == {case.category for case in CASES}
    assert inventive["judge"]["model"] == JUDGE_MODEL
    assert inventive["judge"]["temperature"] == 0.0
    assert traffic.peak == 2


def test_judge_metrics_leave_the_golden_score_alone_unless_weighted(judge):
    url, _ = judge
    settings = JudgeSettings(endpoint=url)
    unjudged = _evaluate(_inventive)
    judged = _evaluate(_inventive, settings)
    weighted = _evaluate(
        _inventive,
        settings,
        weights=ScoreWeights(
            facts=0.6, chrf=0.1, rouge_l=0.05, string_similarity=0.05, faithfulness=0.2
        ),
    )

    assert judged["summary"]["golden_score"] == unjudged["summary"]["golden_score"]
    assert [row["score"] for row in judged["results"]] == [
        row["score"] for row in unjudged["results"]
    ]
    assert weighted["summary"]["golden_score"] < judged["summary"]["golden_score"]


def test_judge_off_sends_nothing_and_the_record_says_so(judge, monkeypatch):
    url, traffic = judge
    # Even with the OpenAI client's own settings pointing at the judge.
    monkeypatch.setenv("OPENAI_BASE_URL", f"{url}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "unused")
    record = _evaluate(_inventive)

    assert traffic.requests == 0
    assert record["judge"]["computed"] is False
    assert "no judge endpoint" in record["judge"]["reason"]
    assert record["summary"]["judge"] is None
    assert not any("faithfulness" in row for row in record["results"])


def test_judgements_are_reused_when_the_same_judge_moves(tmp_path):
    cache_dir = tmp_path / "cache"
    runs = []
    for _ in range(2):  # the same judge model, served on two different ports
        traffic = Traffic()
        with running_server(judge_app(traffic)) as url:
            record = _evaluate(
                _inventive, JudgeSettings(endpoint=url), cache_dir=cache_dir
            )
        runs.append((record, traffic.requests))

    (first, first_requests), (second, second_requests) = runs
    assert first_requests > 0 and second_requests == 0
    assert second["judge"]["cache"] == {"hits": len(CASES), "misses": 0}
    assert second["summary"]["judge"] == first["summary"]["judge"]


def test_empty_answer_is_not_sent_to_the_judge(judge):
    url, traffic = judge
    record = _evaluate(lambda case: "", JudgeSettings(endpoint=url), limit=1)

    assert traffic.requests == 0
    assert record["results"][0]["faithfulness"] is None
    assert record["results"][0]["factual_correctness"] == 0.0
    assert record["summary"]["judge"]["unjudged"]["faithfulness"] == 1


def test_judge_weight_without_a_judge_is_refused_before_generating():
    backend = ScriptedBackend(CASES, _faithful)
    weights = ScoreWeights(
        facts=0.7, chrf=0.1, rouge_l=0.05, string_similarity=0.05, faithfulness=0.1
    )
    with pytest.raises(JudgeError, match="no judge endpoint is configured"):
        evaluate(
            DATASET, backend=backend, threshold=0.85, weights=weights, progress=False
        )
    assert backend.calls == 0


@pytest.fixture(scope="module")
def candidate():
    with running_server(candidate_app(CASES, _faithful)) as url:
        yield url


def _runner(candidate_url, output, *judge_args):
    args = ["--dataset", str(DATASET), "--endpoint", candidate_url, "--limit", "2"]
    args += ["--output", str(output), "--no-cache", "--no-plots", *judge_args]
    return CliRunner().invoke(cli, args)


def test_cli_prints_judge_metrics_beside_the_scores(candidate, judge, tmp_path):
    url, _ = judge
    result = _runner(candidate, tmp_path / "r.json", "--judge-endpoint", url)

    assert result.exit_code == 0, result.output
    assert "faithfulness" in result.output
    assert f"judge {JUDGE_MODEL} at {url}" in result.output


def test_cli_without_judge_says_judge_metrics_were_not_computed(candidate, tmp_path):
    result = _runner(candidate, tmp_path / "r.json")

    assert result.exit_code == 0, result.output
    assert "judge metrics not computed" in result.output


def test_unreachable_judge_exits_2_naming_it_and_keeps_the_old_record(
    candidate, tmp_path
):
    output = tmp_path / "eval-results.json"
    output.write_text('{"previous": true}\n', encoding="utf-8")
    url = f"http://127.0.0.1:{free_port()}"
    result = _runner(candidate, output, "--judge-endpoint", url)

    assert result.exit_code == 2
    assert f"judge endpoint {url}: GET /v1/models failed" in result.output
    assert "start the judge server" in result.output
    assert "Traceback" not in result.output
    assert output.read_text(encoding="utf-8") == '{"previous": true}\n'


@pytest.mark.parametrize(
    ("behaviour", "explanation"),
    [("prose", "not the JSON ragas asks for"), ("broken", "answered HTTP 500")],
)
def test_judge_answering_nonsense_exits_2_naming_it(
    candidate, tmp_path, behaviour, explanation
):
    output = tmp_path / "eval-results.json"
    output.write_text('{"previous": true}\n', encoding="utf-8")
    with running_server(judge_app(Traffic(), behaviour)) as url:
        result = _runner(candidate, output, "--judge-endpoint", url)

    assert result.exit_code == 2
    assert f"judge endpoint {url}" in result.output
    assert explanation in result.output
    assert "Traceback" not in result.output
    assert output.read_text(encoding="utf-8") == '{"previous": true}\n'


def test_judge_metrics_show_in_the_mlflow_run(judge, tmp_path):
    from registry.store import connect, ensure_experiment
    from registry.tracking import log_evaluation

    url, _ = judge
    record = _evaluate(_inventive, JudgeSettings(endpoint=url))
    client = connect(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = ensure_experiment(client, "judged", str(tmp_path / "artifacts"))

    run_id = log_evaluation(client, experiment, record)

    metrics = client.get_run(run_id).data.metrics
    judged = record["summary"]["judge"]
    assert metrics["faithfulness"] == pytest.approx(judged["faithfulness"])
    assert metrics["factual_correctness"] < 1.0
    for category in judged["by_category"]:
        assert f"faithfulness.category.{category}" in metrics
