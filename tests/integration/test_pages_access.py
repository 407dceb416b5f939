"""Every page, read from the app's own routes: signed out it redirects to sign-in (GET and POST
alike, nothing done), and a signed-in member who is not an operator gets 404 from the operators'."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import PAGES, create_app
from services.auth import create_user
from tests.support.browser import sign_in

pytestmark = pytest.mark.db
NOT_PAGES = ("/api/", "/static", "/healthz", "/readyz", "/metrics", "/signin")
PASSWORD = "correct horse battery"


def page_routes() -> list[tuple[str, str]]:
    found = []
    for route in (route for router in PAGES for route in router.routes):
        if isinstance(route, APIRoute) and not route.path.startswith(NOT_PAGES):
            path = re.sub(r"\{[^}]+\}", "1", route.path)
            found += [(method, path) for method in sorted(route.methods)]
    return found


def test_signed_out_every_page_redirects_to_sign_in_and_operators_pages_are_404_to_members(world):
    app = create_app(world.deps)
    routes = page_routes()
    assert len(routes) >= 15, routes
    client = TestClient(app, follow_redirects=False)
    for method, path in routes:
        response = client.request(method, path)
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/signin?next=")
    create_user(world.deps, "member@example.com", password=PASSWORD)
    sign_in(client, "member@example.com", PASSWORD)
    for method, path in routes:
        if path.startswith("/ops") and method == "GET":
            assert client.get(path).status_code == 404, path
