"""The pages' third-party files: what `make` installs is byte for byte what the CDN fallback pins."""

from __future__ import annotations

import pytest

from api import assets
from scripts.assets import matches


def test_installed_files_are_the_pinned_bytes():
    if not assets.installed():
        pytest.skip("npm did not install the assets here (the pages use the CDN)")
    for asset in assets.ASSETS.values():
        assert matches(assets.VENDOR / asset.name, asset.integrity), asset.name


def test_without_installed_files_the_pages_load_the_pinned_cdn_files_with_integrity(monkeypatch, tmp_path):
    monkeypatch.setattr(assets, "VENDOR", tmp_path / "absent")
    script = assets.tag("rrweb-player.js")
    assert 'src="https://cdn.jsdelivr.net/npm/rrweb-player@2.1.6/dist/rrweb-player.umd.min.cjs"' in script
    assert f'integrity="{assets.ASSETS["rrweb-player.js"].integrity}" crossorigin="anonymous"' in script
    assert "https://cdn.jsdelivr.net/npm/" in assets.content_security_policy()


def test_installed_files_are_served_from_here_and_the_policy_names_no_cdn(monkeypatch, tmp_path):
    for asset in assets.ASSETS.values():
        (tmp_path / asset.name).write_text("x")
    monkeypatch.setattr(assets, "VENDOR", tmp_path)
    assert assets.tag("rrweb-player.css") == '<link rel="stylesheet" href="/static/vendor/rrweb-player.css">'
    assert "cdn" not in assets.content_security_policy()


def test_the_recorder_snippet_falls_back_to_the_same_pinned_file():
    recorder = (assets.VENDOR.parent / "recorder.js").read_text()
    record = assets.ASSETS["rrweb-record.js"]
    assert f'src: "{record.cdn_url}"' in recorder
    assert f'integrity: "{record.integrity}"' in recorder
    assert "/static/vendor/rrweb-record.js" in recorder
