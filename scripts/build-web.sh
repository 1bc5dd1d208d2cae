#!/usr/bin/env bash
# Builds the web UI: web/ (TypeScript, Vite) -> web/dist. The server's build copies web/dist into its
# output folder as wwwroot/, which it serves at /. Needs Node.js 20+ and npm (packages come from the npm
# registry through `npm ci`, pinned by web/package-lock.json). Skips the build when web/dist is newer
# than every source file. LINEAGE_WEB_FORCE=1 rebuilds anyway.
set -euo pipefail
cd "$(dirname "$0")/../web"

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "node/npm not found: install Node.js 20 or later to build the web UI" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "Node.js $(node --version) is too old for the web UI build (Vite 7 needs 20.19+)" >&2
  exit 1
fi

if [ -z "${LINEAGE_WEB_FORCE:-}" ] && [ -f dist/index.html ] && [ -d node_modules ] \
   && [ -z "$(find src index.html package.json package-lock.json vite.config.ts tsconfig.json -newer dist/index.html -print -quit)" ]; then
  echo "== web UI up to date (web/dist)"
  exit 0
fi
echo "== building the web UI (npm ci + vite build)"
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
