#!/usr/bin/env bash
# Builds the web UI and starts the Lineage server on the embedded default: SQLite database and artifact
# folder under ./lineage-data, listening on http://127.0.0.1:5000. Extra arguments go to
# `lineage server` (see `--help`): e.g. scripts/start.sh --port 8080 --db ./other.db
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# The web UI first (the server build copies web/dist); without it the server still starts and / says how to build it.
scripts/build-web.sh || echo "warning: the web UI was not built; the server starts without it" >&2
exec dotnet run --project src/Lineage.Cli -c Release -- server "$@"
