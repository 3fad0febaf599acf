"""Commands to generate and validate the synthetic farm tables.

Mounted as ``yonca synth …``; also usable on its own with
``python -m synthetic.cli``. Exit codes: 0 success, 1 the data breaks
expectations or could not be stored, 2 the input or arguments are unusable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthetic.errors import (
    DataInputError,
    GenerationError,
    ParameterError,
    StorageError,
)
from synthetic.parameters import DEFAULT_CHUNK_SIZE, DEFAULT_SEASON

# How each checked parameter is spelled on the command line.
OPTION_NAMES = {"region_weights": "--region"}

app = typer.Typer(
    help="Generate and validate seeded synthetic farm data.",
    no_args_is_help=True,
    add_completion=False,
)


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _option(parameter: str) -> str:
    return OPTION_NAMES.get(parameter, "--" + parameter.replace("_", "-"))


def parse_regions(values: list[str] | None) -> dict[str, float] | None:
    """Turn ``NAME`` or ``NAME=WEIGHT`` options into region weights."""
    if not values:
        return None
    weights: dict[str, float] = {}
    for value in values:
        name, _, weight = value.rpartition("=") if "=" in value else (value, "", "1")
        try:
            weights[name.strip()] = float(weight)
        except ValueError as exc:
            raise ParameterError(
                "region_weights",
                f"the weight in {value!r} is not a number; write NAME=WEIGHT, "
                "e.g. Lankaran-Astara=2.",
            ) from exc
    return weights


@app.command("synth")
def synth_command(
    seed: Annotated[int, typer.Option(help="Seed; equal seeds give equal files.")] = 42,
    farms: Annotated[int, typer.Option(help="Number of farms to generate.")] = 1000,
    out: Annotated[Path, typer.Option(help="Directory for the tables.")] = Path(
        "data/synthetic"
    ),
    season: Annotated[int, typer.Option(help="Harvest year.")] = DEFAULT_SEASON,
    chunk_size: Annotated[
        int, typer.Option(help="Farms per random stream; part of the data's identity.")
    ] = DEFAULT_CHUNK_SIZE,
    workers: Annotated[int, typer.Option(help="Processes generating chunks.")] = 1,
    region: Annotated[
        list[str] | None,
        typer.Option(
            help="Only farms in this region, as NAME or NAME=WEIGHT; repeatable."
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(envvar="DATABASE_URL", help="PostgreSQL URL to load as well."),
    ] = None,
) -> None:
    """Generate the tables and write Parquet files and synthetic.db into OUT."""
    from synthetic.workflow import synthesize

    try:
        result = synthesize(
            seed,
            farms,
            out,
            chunk_size,
            season,
            workers,
            database_url=database_url,
            region_weights=parse_regions(region),
        )
    except ParameterError as exc:
        raise _fail(f"Invalid value for {_option(exc.parameter)}: {exc}", 2) from exc
    except GenerationError as exc:
        raise _fail(str(exc), 2) from exc
    except StorageError as exc:
        raise _fail(str(exc), 1) from exc
    typer.echo(result.summary_line())


@app.command("validate")
def validate_command(
    data: Annotated[Path, typer.Option(help="Directory holding the tables.")] = Path(
        "data/synthetic"
    ),
    report: Annotated[
        Path | None, typer.Option(help="Also write the JSON summary here.")
    ] = None,
) -> None:
    """Run every data expectation on the tables in DATA."""
    from synthetic.workflow import validate_directory, write_report

    try:
        outcome = validate_directory(data, raise_on_failure=False)
    except DataInputError as exc:
        raise _fail(str(exc), 2) from exc
    if report is not None:
        write_report(outcome, report)
    if not outcome.success:
        raise _fail(outcome.summary(), 1)
    typer.echo(outcome.summary())


if __name__ == "__main__":
    app()
