#!/usr/bin/env bash
# The main job on the embedded defaults: import sessions, ask scanners about them through a real
# worker, and print what they found. `make demo` runs it with .venv's sightline on PATH.
set -euo pipefail
home="${SIGHTLINE_HOME:-.sightline}"

sightline init
sightline scenarios write "$home/scenarios"
sightline import "$home/scenarios"
if [ -d recordings ]; then sightline import recordings || echo "(some files in ./recordings failed; see above)"; fi
sightline recordings list
sightline timeline scenario-checkout-js-error

sightline apply examples/heuristic-scanners.yaml
scanners=("Rage clicks" "Friction kinds" "Frustration score" "Visit summary")
if [ -n "${GEMINI_API_KEY:-}" ]; then
    sightline apply examples/gemini-scanners.yaml
    scanners+=("Payment failed" "Visit summary (Gemini)")
fi

SIGHTLINE_LOG_LEVEL=warning sightline worker --threads 4 &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null; wait "$worker" 2>/dev/null || true' EXIT
for scanner in "${scanners[@]}"; do
    sightline observe "$scanner" --all --wait --timeout 300 > /dev/null
done
sightline observations list --limit 100
sightline quota
