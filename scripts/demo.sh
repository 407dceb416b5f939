#!/usr/bin/env bash
# The main job on the embedded defaults: import sessions, let the real scheduler and worker
# (`sightline up`) observe them with every scanner, and print what they found. `make demo` runs
# it with .venv's sightline on PATH.
set -euo pipefail
home="${SIGHTLINE_HOME:-.sightline}"

sightline init
sightline scenarios write "$home/scenarios"
sightline import "$home/scenarios"
if [ -d recordings ]; then sightline import recordings || echo "(some files in ./recordings failed; see above)"; fi
sightline recordings list
sightline timeline scenario-checkout-js-error

sightline apply examples/heuristic-scanners.yaml
if [ -n "${GEMINI_API_KEY:-}" ]; then
    sightline apply examples/gemini-scanners.yaml
fi

# The demo's sessions were imported a moment ago and happened months ago: sweep them at once
# (no settle interval, a one-second tick) and look back past the scanners' creation (backfill).
export SIGHTLINE_SETTLE_S=0 SIGHTLINE_SCHEDULER_TICK_S=1
sightline scanners backfill --all --since 2000-01-01

SIGHTLINE_LOG_LEVEL=warning sightline up --threads 4 > "$home/up.log" 2>&1 &
up=$!
trap 'kill -INT "$up" 2>/dev/null; wait "$up" 2>/dev/null || true' EXIT
sightline status --wait-idle 300
sightline observations list --limit 100
sightline reports list
sightline quota

# Every scanner got a daily digest action delivering to the log; run one now and show what arrived.
sightline actions run-now "Featured digest: Rage clicks" --wait --timeout 120
echo "--- the newest entry of $home/deliveries.jsonl:"
tail -n 1 "$home/deliveries.jsonl" | python3 -c 'import json, sys; print(json.load(sys.stdin)["markdown"])'

# The web pages: a demo person who can sign in (their password stays in a file, never printed),
# and the page of the most telling finding.
demo_email=demo@sightline.local
if [ ! -s "$home/demo-password" ]; then
    (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(12))' > "$home/demo-password")
fi
if ! sightline users list | grep -q "$demo_email"; then
    sightline users create --email "$demo_email" --password-stdin < "$home/demo-password"
fi
site="${SIGHTLINE_SITE_URL:-http://localhost:8000}"
finding=$(sightline observations list --status succeeded --verdict yes --limit 1 --ids)
echo "--- the web pages"
if [ -n "$finding" ]; then
    echo "The most telling finding, with its replay: $site/observations/$finding"
fi
report=$(sightline reports list --ordering=-total_weight --ids | sed -n 1p)
if [ -n "$report" ]; then
    echo "The heaviest report, its signals linked to their replays: $site/reports/$report"
fi
echo "Start the web app with the pipeline:  .venv/bin/sightline up    (then open $site)"
echo "Sign in as $demo_email with the password in $home/demo-password"
