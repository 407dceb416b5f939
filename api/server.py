"""Serving the app with uvicorn: `sightline api` and the `web:` process."""

from __future__ import annotations

from fastapi import FastAPI


def app_factory() -> FastAPI:
    """The app of this process (uvicorn calls it in each worker process)."""
    from actors.broker import process_deps
    from api.app import create_app
    from integrations.logs import configure_logging
    from settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(process_deps(settings))


def serve(host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    uvicorn.run(
        "api.server:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        proxy_headers=True,
    )
