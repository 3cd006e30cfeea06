#!/usr/bin/env bash
# Lints the protorad.v1 API with buf (STANDARD + COMMENTS). buf's binary comes from npm.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npx >/dev/null 2>&1; then
  echo "buf lint needs npx (Node.js + npm) on PATH; install Node.js, or skip with -Dbuf.skip=true" >&2
  exit 1
fi
exec npx --yes @bufbuild/buf@1.75.0 lint
