"""``yonca serve``: run the inference API with uvicorn."""

from __future__ import annotations

import typer

from serving.errors import ConfigurationError


def serve_command(
    host: str | None = typer.Option(None, help="Bind address; default API_HOST."),
    port: int | None = typer.Option(None, help="Port; default API_PORT."),
) -> None:
    """Serve the vetted production model over the OpenAI-compatible API."""
    import uvicorn

    from serving.app import create_app
    from serving.settings import load_settings
    from yonca.logs import configure_logging

    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format.value)
        app = create_app(settings)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc

    uvicorn.run(
        app,
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level=settings.log_level.lower(),
        # One structured line per request comes from the app itself.
        access_log=False,
    )
