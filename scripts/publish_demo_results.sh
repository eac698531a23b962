#!/usr/bin/env bash
# Re-create the DEMO layer of results/: run every ASR model that works offline here on the
# bundled demo-asr set (30 TTS clips, demo data, not a benchmark) and publish each run with its
# card from results/cards/<model>.json. 2-4 minutes on 2 CPU cores; no network.
#
#   bash scripts/publish_demo_results.sh            # after scripts/setup.sh
#   RESULTS=/some/where bash scripts/publish_demo_results.sh
#
# Runs go to a temporary folder; each is published into $RESULTS/demo/<model>/<run_id>/
# (--replace: a re-scored copy of the same run id overwrites). Older demo runs of the same
# model folder are then removed, so results/ keeps one current run per model (git keeps the
# history). Runs published by other means under other model folders are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

VOXEVAL="${VOXEVAL:-.venv/bin/voxeval}"
RESULTS="${RESULTS:-results}"
MODELS=(faster-whisper pocketsphinx)  # the offline ASR models (docs: ../shared/DESIGN.md §3)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for model in "${MODELS[@]}"; do
  card="$RESULTS/cards/$model.json"
  [ -f "$card" ] || { echo "publish_demo_results: no card $card" >&2; exit 1; }
  "$VOXEVAL" run --model "$model" --tasks demo-asr --output-dir "$work/runs"
  runs=("$work/runs/$model"/*/run.json)
  [ ${#runs[@]} -eq 1 ] || { echo "publish_demo_results: expected one run: ${runs[*]}" >&2; exit 1; }
  out="$("$VOXEVAL" publish "$(dirname "${runs[0]}")" --results-dir "$RESULTS" --card "$card" \
    --replace)"
  echo "$out"
  dest="$(printf '%s\n' "$out" | sed -n -E 's/^voxeval: (published|replaced) //p')"
  [ -n "$dest" ] || continue  # already published: nothing changed
  case "$dest" in
    "$RESULTS"/demo/*) ;;
    *) echo "publish_demo_results: $dest is not in the demo layer" >&2; exit 1 ;;
  esac
  for old in "$(dirname "$dest")"/*/; do
    old="${old%/}"
    if [ "$old" != "$dest" ] && [ -f "$old/run.json" ]; then
      echo "publish_demo_results: removing superseded $old"
      rm -rf -- "$old"
    fi
  done
done
