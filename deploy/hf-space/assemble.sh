#!/usr/bin/env bash
# Assemble a Hugging Face Docker Space from this repository into SPACE_DIR (created if needed;
# files already there are overwritten, others kept, so it can be a clone of the Space repo):
#
#   bash deploy/hf-space/assemble.sh /tmp/my-space
#   hf upload USER/SPACE /tmp/my-space . --repo-type space     # or git add/commit/push there
#
# The Space gets the root Dockerfile and .dockerignore, the package source it installs, the
# results/ folder it serves, this folder's README.md (the Space's YAML front matter: sdk docker,
# app_port 8501) and .gitattributes (audio through LFS/Xet). Files are taken as git sees them:
# tracked plus new, not ignored (no .venv, caches or runs/). See docs/deploy.md.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 SPACE_DIR" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
[ "$out" != "$repo" ] || { echo "assemble: SPACE_DIR must not be the repository" >&2; exit 2; }

cd "$repo"
git ls-files -z --cached --others --exclude-standard -- \
  Dockerfile .dockerignore pyproject.toml harness adapters tasks leaderboard results |
  while IFS= read -r -d '' file; do
    [ -f "$file" ] || continue  # deleted in the working tree
    mkdir -p "$out/$(dirname "$file")"
    cp -p "$file" "$out/$file"
  done
cp "$here/README.md" "$out/README.md"  # also the package's readme when the Space builds it
cp "$here/.gitattributes" "$out/.gitattributes"
echo "assemble: Space files in $out"
