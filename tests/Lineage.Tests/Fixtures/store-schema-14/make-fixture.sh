#!/usr/bin/env bash
# Regenerates this fixture: a store (lineage.db + artifacts/) written by the Lineage release before the newest migration,
# for tests/Lineage.Tests/Operations/UpgradeTests.cs. See README.md. Run from anywhere inside the repository:
#   tests/Lineage.Tests/Fixtures/store-schema-14/make-fixture.sh [commit]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
commit=${1:-d9b6f5c}   # tip of the audit-outbox branch: migrations 0001-0014, before 0015 joined them
work=$(mktemp -d /tmp/lineage-fixture.XXXXXX)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

# LINEAGE_PREVIOUS_DLL=<lineage.dll built from that commit> skips the build.
dll=${LINEAGE_PREVIOUS_DLL:-}
if [ -z "$dll" ]; then
  git -C "$here" archive "$commit" | tar -x -C "$work"
  dotnet build "$work/src/Lineage.Cli" -c Release -v q
  dll="$work/src/Lineage.Cli/bin/Release/net10.0/lineage.dll"
fi
lineage() { dotnet "$dll" "$@"; }

rm -rf "$here/lineage.db" "$here/lineage.db-wal" "$here/lineage.db-shm" "$here/artifacts"
port=5917
# dotnet itself in the background (not through the function), so $! is the server and TERM reaches it.
dotnet "$dll" server --db "$here/lineage.db" --artifacts "$here/artifacts" --port "$port" > "$work/server.log" 2>&1 &
pid=$!
L=http://127.0.0.1:$port
for _ in $(seq 1 120); do curl -sf "$L/ready" > /dev/null && break; sleep 0.5; done

EXP=$(curl -sf -X POST "$L/api/v1/experiments" -H 'Content-Type: application/json' -d '{"name":"fixture-churn"}' \
      | sed 's/.*"id":"\([0-9]*\)".*/\1/')
RUN=$(curl -sf -X POST "$L/api/v1/runs" -H 'Content-Type: application/json' -d "{\"experimentId\":\"$EXP\",\"name\":\"baseline\"}" \
      | sed 's/.*"runId":"\([0-9a-f]*\)".*/\1/')
# loss = 1 / (step + 1) for steps 0..9
curl -sf -X POST "$L/api/v1/runs/$RUN/batch" -H 'Content-Type: application/json' -d '{"params":[{"key":"lr","value":"0.01"}],"metrics":[
  {"key":"loss","value":1,"step":0},{"key":"loss","value":0.5,"step":1},{"key":"loss","value":0.3333333333333333,"step":2},
  {"key":"loss","value":0.25,"step":3},{"key":"loss","value":0.2,"step":4},{"key":"loss","value":0.16666666666666666,"step":5},
  {"key":"loss","value":0.14285714285714285,"step":6},{"key":"loss","value":0.125,"step":7},{"key":"loss","value":0.1111111111111111,"step":8},
  {"key":"loss","value":0.1,"step":9}]}' > /dev/null
curl -sf -X PATCH "$L/api/v1/runs/$RUN" -H 'Content-Type: application/json' -d '{"status":"FINISHED"}' > /dev/null
printf 'region,amount\nnorth,10\nsouth,20\n' > "$work/sales.csv"
lineage artifacts push fixture-sales "$work/sales.csv" --type dataset --run "$RUN" --server "$L"

# A clean stop checkpoints the WAL into lineage.db, so the fixture is one file plus the blobs.
kill -TERM "$pid"
wait "$pid" || true
pid=
rm -f "$here/lineage.db-wal" "$here/lineage.db-shm"
rm -rf "$here/artifacts/tmp"
echo "fixture written to $here (schema $(sqlite3 "$here/lineage.db" 'SELECT MAX(version) FROM schema_migrations' 2>/dev/null || echo 14))"
