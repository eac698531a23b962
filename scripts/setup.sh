#!/usr/bin/env bash
# One-time, idempotent set-up of a fresh machine: Debian packages, .venv at the repo root, and
# voxeval with every extra. Afterwards `.venv/bin/voxeval` works offline.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(espeak-ng sox ffmpeg flite festival festvox-kallpc16k wordnet-base
  wordnet-sense-index chromium tini)  # tini: the Docker entry, tested as PID 1
# torch is pinned exactly: a loose "torch" pulls a multi-GB CUDA build on Linux.
TORCH_PIN="torch==2.13.0"
PYTHON="${PYTHON:-python3}"

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "$TORCH_PIN"
.venv/bin/python -m pip install -q -e ".[asr,local,hosted,text,data,leaderboard,ray,test]" \
  "torchcodec==0.13.0"
# WordNet for METEOR, copied from Debian's packages into .cache/nltk_data (no download).
.venv/bin/python scripts/setup_nltk_data.py
echo "setup: done. Try: .venv/bin/voxeval run --model faster-whisper --tasks demo-asr"
