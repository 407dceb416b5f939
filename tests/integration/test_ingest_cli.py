"""`sightline tokens`: create (the token alone on the last line), list, revoke, and allowed origins."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.db


def test_a_token_is_shown_once_listed_masked_and_revoked(sightline):
    created = sightline("tokens", "create", "--label", "shop")
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("sli_") and len(secret) > 30
    listed = sightline("tokens", "list")
    assert "shop" in listed.output and "active" in listed.output and secret not in listed.output
    mask = f"{secret[:8]}…{secret[-4:]}"
    assert mask in listed.output
    revoked = sightline("tokens", "revoke", mask)
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert "revoked" in sightline("tokens", "list").output
    unknown = sightline("tokens", "revoke", "nothing-like-it")
    assert unknown.exit_code == 2 and "no single ingest token" in unknown.output


def test_origins_are_added_normalised_removed_and_bad_ones_refused(sightline):
    added = sightline("tokens", "origins", "--add", "https://Shop.example/", "--add", "http://localhost:3000")
    assert added.exit_code == 0
    assert "https://shop.example, http://localhost:3000" in added.output
    assert (
        "http://localhost:3000"
        not in sightline("tokens", "origins", "--remove", "http://localhost:3000").output
    )
    refused = sightline("tokens", "origins", "--add", "shop.example/path")
    assert refused.exit_code == 2 and "not an origin" in refused.output
    assert sightline("tokens", "create", "--team", "99").exit_code == 2
