"""Third-party JavaScript and CSS of the pages: rrweb's replay player and its recorder, pinned.

Never committed. `make` installs the npm package (`package.json`, `package-lock.json`) and copies the
files below into `api/static/vendor/` (`scripts/assets.py`); without npm, the pages load the same
files from jsDelivr with Subresource Integrity, so the browser refuses any other bytes. Both paths
serve identical bytes: `tests/unit/test_assets.py` checks the installed files against these hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup, escape

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
CDN = "https://cdn.jsdelivr.net/npm/"


@dataclass(frozen=True)
class Asset:
    name: str  # under /static/vendor/
    package_file: str  # within node_modules/, as the CDN names it after /npm/
    version: str
    integrity: str  # sha384 of the file's bytes

    @property
    def cdn_url(self) -> str:
        package, _, path = self.package_file.partition("/dist/")
        return f"{CDN}{package}@{self.version}/dist/{path}"


ASSETS = {
    "rrweb-player.js": Asset(
        "rrweb-player.js",
        "rrweb-player/dist/rrweb-player.umd.min.cjs",
        "2.1.6",
        "sha384-+R997sypf7YNtxY+sJiPYcx3wMHOil4OKFKwLSBrpHoXZ0q1Avd2CPvb3dvJuleO",
    ),
    # The recorder snippet's engine (api/static/recorder.js loads it), for pages that send live ingest.
    "rrweb-record.js": Asset(
        "rrweb-record.js",
        "@rrweb/record/dist/record.umd.min.cjs",
        "2.1.6",
        "sha384-UXg/O1bVryk2M3h7gqexGANyLz+zFnrl1KWPxii4mUPP42AwGp1LvfeGjURH/0F9",
    ),
    "rrweb-player.css": Asset(
        "rrweb-player.css",
        "rrweb-player/dist/style.min.css",
        "2.1.6",
        "sha384-Vtd2JJi08a5lmE5TOd+EV1z2Qvs17Ufa6/rlyqHiHhRpk1M34rmdExK5oVQ5cMmf",
    ),
}


def installed() -> bool:
    """Whether `make` installed the files (then the pages serve them from here)."""
    return all((VENDOR / name).is_file() for name in ASSETS)


def tag(name: str) -> Markup:
    """The `<script>` or `<link>` of an asset: ours when installed, else the CDN's with integrity."""
    asset = ASSETS[name]
    if installed():
        url, extra = f"/static/vendor/{asset.name}", ""
    else:
        url, extra = asset.cdn_url, f' integrity="{asset.integrity}" crossorigin="anonymous"'
    if name.endswith(".css"):
        return Markup(f'<link rel="stylesheet" href="{escape(url)}"{extra}>')
    return Markup(f'<script src="{escape(url)}"{extra} defer></script>')


def content_security_policy() -> str:
    """Scripts only from this site (and the CDN when the assets are not installed). Styles and
    images may be inline or anywhere: the replay rebuilds the recorded page, with its own styles,
    inside a sandboxed frame that runs none of its scripts."""
    cdn = "" if installed() else f" {CDN}"
    return (
        f"default-src 'self'; script-src 'self'{cdn}; style-src 'self' 'unsafe-inline'{cdn}; "
        "img-src * data: blob:; font-src * data:; media-src * data: blob:; connect-src 'self'; "
        "frame-src 'self' about: blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
