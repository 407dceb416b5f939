"""Serving the app with uvicorn: `sightline api` and the `web:` process."""

from __future__ import annotations

import gc

from fastapi import FastAPI

# Allocations before a young collection (CPython's default is 700).
GC_YOUNG_THRESHOLD = 20_000


def app_factory() -> FastAPI:
    """The app of this process (uvicorn calls it in each worker process)."""
    from actors.broker import process_deps
    from api.app import create_app
    from integrations.logs import configure_logging
    from settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(process_deps(settings))
    calm_garbage_collection()
    return app


def calm_garbage_collection() -> None:
    """Keep the start-up objects (modules, the app, the schema) out of every later collection, and
    collect less often: a page of 100 rows allocates enough to trigger several collections per
    request, and the full ones, walking every object, were the API's slowest moments (bench/api.py:
    p99 of a page of 100 went from 139 to 52 ms with 4 clients; memory grows by a few MB at most)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 50, 100)


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
        log_config=None,  # its records go through our handler (integrations/logs.py), as JSON
        proxy_headers=True,
    )
