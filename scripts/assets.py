"""Install the pages' third-party assets (`make assets`): `npm ci`, then copy the pinned files into
api/static/vendor/. Without npm, say so and leave the pages on the CDN with integrity hashes."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.assets import ASSETS, VENDOR  # noqa: E402


def main() -> int:
    if all(matches(VENDOR / asset.name, asset.integrity) for asset in ASSETS.values()):
        return 0  # already installed, byte for byte
    npm = shutil.which("npm")
    if npm is None:
        print("npm not found: the pages will load rrweb-player from jsDelivr (pinned, with integrity hashes)")
        return 0
    subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--silent"], cwd=ROOT, check=True
    )
    VENDOR.mkdir(parents=True, exist_ok=True)
    for asset in ASSETS.values():
        shutil.copyfile(ROOT / "node_modules" / asset.package_file, VENDOR / asset.name)
        if not matches(VENDOR / asset.name, asset.integrity):
            raise SystemExit(
                f"{asset.package_file} is not the pinned file (its hash differs from api/assets.py)"
            )
    print(f"assets: {', '.join(ASSETS)} installed in {VENDOR.relative_to(ROOT)}")
    return 0


def matches(path: Path, integrity: str) -> bool:
    """Whether the file holds exactly the bytes `integrity` (`sha384-…`) names."""
    if not path.is_file():
        return False
    digest = base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()
    return integrity == f"sha384-{digest}"


if __name__ == "__main__":
    raise SystemExit(main())
