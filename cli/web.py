"""`sightline api`: the HTTP API (and, later, the pages) with uvicorn."""

from __future__ import annotations

import structlog
import typer

from cli.context import friendly_errors, migrated_database, settings

log = structlog.get_logger(__name__)


@friendly_errors
def api_command(
    host: str = typer.Option(None, help="Address to listen on (default SIGHTLINE_API_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default SIGHTLINE_API_PORT, 8000)."),
    workers: int = typer.Option(1, min=1, help="Worker processes (share the Redis and database)."),
) -> None:
    """Serve the HTTP API until Ctrl-C; OpenAPI at /api/schema/, interactive docs at /api/docs/."""
    from api.server import serve

    current = settings()
    migrated_database(current)
    host, port = host or current.api_host, port or current.api_port
    # A fact in the process's log (JSON in production), not a plain line beside it.
    log.info("api_serving", docs=f"http://{host}:{port}/api/docs/", workers=workers)
    serve(host, port, workers)
