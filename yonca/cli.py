"""The `yonca` command: one entry point over the platform's packages.

yonca synth --seed 42 --farms 1000 --out data/synthetic
yonca validate --data data/synthetic
yonca eval --dataset golden/dataset.jsonl --model models/candidate.gguf
yonca golden check --dataset golden/dataset.jsonl
"""

from __future__ import annotations

import typer

from evaluation.consistency import golden_app
from evaluation.runner import main as evaluate_command
from registry.cli import promote_command, registry_app, rollback_command
from serving.cli import serve_command
from synthetic.cli import synth_command, validate_command
from yonca.logs import configure_logging
from yonca.privacy import disable_telemetry

app = typer.Typer(
    help="Yonca MLOps: synthetic farms, golden-set evaluation, gated registry.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("synth")(synth_command)
app.command("validate")(validate_command)
app.command("eval")(evaluate_command)
app.command("serve")(serve_command)
app.add_typer(golden_app, name="golden")
app.command("promote")(promote_command)
app.command("rollback")(rollback_command)
app.add_typer(registry_app, name="registry")


@app.callback()
def _setup() -> None:
    """Turn telemetry off and configure logging before any command runs."""
    disable_telemetry()
    configure_logging()
