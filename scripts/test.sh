#!/usr/bin/env bash
# Runs the whole Lineage test suite on a fresh Debian machine with only the .NET SDK.
# Installs PostgreSQL and Chromium when missing (apt-get, as root or through sudo), builds the web UI
# (scripts/build-web.sh), starts a throwaway
# cluster under a temp folder, installs (npm ci in tests/s3-server) and starts an S3-compatible server (s3rver) on
# loopback for the artifact tests on S3, runs every test against them, and ends with one line:
#   N passed, M failed[, K skipped]
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Storage").
# LINEAGE_TEST_POSTGRES=<Npgsql connection string> uses an existing server instead;
# LINEAGE_TEST_S3=<endpoint URL> an existing S3-compatible server (with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY set).
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

pg_bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

ensure_postgres() {
  local bin; bin=$(pg_bin_dir)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "== installing PostgreSQL (apt-get)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
    bin=$(pg_bin_dir)
  fi
  [ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found after install" >&2; return 1; }
  PG_BIN=$bin
}

free_port() {
  local port first=${1:-54329} last=${2:-54429}
  for port in $(seq "$first" "$last"); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  echo "no free port between $first and $last" >&2; return 1
}

# initdb refuses to run as root: the cluster belongs to the postgres system user when we are root.
run_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

PG_DIR=""
stop_postgres() {
  if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
    run_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}

start_postgres() {
  ensure_postgres
  PG_DIR=$(mktemp -d /tmp/lineage-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
  local port; port=$(free_port)
  run_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-sync >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  # fsync off: a throwaway cluster for tests; durability is tested on SQLite and by the store's own commits.
  run_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off" start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; return 1; }
  export LINEAGE_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  echo "== PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($PG_DIR)"
}

# The artifact tests on S3 run against s3rver, an S3-compatible server from npm (tests/s3-server: package.json and
# package-lock.json, installed with npm ci). Without it those tests fail, they do not skip.
S3_DIR=""
S3_PID=""
stop_s3() {
  if [ -n "$S3_PID" ]; then kill "$S3_PID" 2>/dev/null || true; wait "$S3_PID" 2>/dev/null || true; fi
  if [ -n "$S3_DIR" ] && [ -d "$S3_DIR" ]; then rm -rf "$S3_DIR"; fi
}

start_s3() {
  command -v npm >/dev/null || { echo "npm not found: the S3 tests need Node.js 20 and npm" >&2; return 1; }
  if [ ! -f tests/s3-server/node_modules/s3rver/bin/s3rver.js ] || [ tests/s3-server/package-lock.json -nt tests/s3-server/node_modules ]; then
    echo "== installing the S3 test server (npm ci in tests/s3-server)"
    (cd tests/s3-server && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || return 1
  fi
  S3_DIR=$(mktemp -d /tmp/lineage-s3.XXXXXX)
  local port; port=$(free_port 45680 45780)
  # s3rver encrypts list continuation tokens with a cipher OpenSSL 3 keeps in its legacy provider.
  NODE_OPTIONS=--openssl-legacy-provider node tests/s3-server/node_modules/s3rver/bin/s3rver.js -d "$S3_DIR/data" -a 127.0.0.1 -p "$port" --silent \
    >"$S3_DIR/server.log" 2>&1 &
  S3_PID=$!
  local i
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    if ! kill -0 "$S3_PID" 2>/dev/null; then cat "$S3_DIR/server.log" >&2; return 1; fi
    sleep 0.1
  done
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "s3rver did not open 127.0.0.1:$port" >&2; return 1; }
  export LINEAGE_TEST_S3="http://127.0.0.1:$port"
  export LINEAGE_TEST_S3_SERVER="$PWD/tests/s3-server/node_modules/s3rver/bin/s3rver.js"
  # s3rver's fixed credentials; region for request signing.
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
  echo "== s3rver $(node -p "require('./tests/s3-server/node_modules/s3rver/package.json').version") on $LINEAGE_TEST_S3 ($S3_DIR)"
}

cleanup() {
  stop_s3
  stop_postgres
}
trap cleanup EXIT

# The UI tests drive Debian's Chromium (tests/Lineage.Tests/Ui); without it they fail, they do not skip.
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "== installing Chromium (apt-get)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
}

# The Python client's tests run on Debian's python3 with its python3-pytest (no PyPI here).
PYTHON=${LINEAGE_TEST_PYTHON:-/usr/bin/python3}
ensure_pytest() {
  if ! "$PYTHON" -c 'import pytest' 2>/dev/null; then
    echo "== installing pytest (apt-get python3-pytest)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-pytest >/dev/null
  fi
  "$PYTHON" -c 'import pytest' 2>/dev/null
}

if [ -z "${LINEAGE_TEST_POSTGRES:-}" ]; then start_postgres; fi
if [ -z "${LINEAGE_TEST_S3:-}" ]; then start_s3 || echo "warning: the S3 test server could not be started; the S3 tests will fail" >&2; fi
ensure_chromium || echo "warning: Chromium could not be installed; the UI tests will fail" >&2
# The web UI is built before the server (its build copies web/dist); a failed UI build fails the UI tests.
scripts/build-web.sh || echo "warning: the web UI build failed; the UI tests will fail" >&2

RESULTS=$(mktemp -d /tmp/lineage-results.XXXXXX)
status=0
dotnet test Lineage.slnx -c Release --logger "trx" --logger "console;verbosity=minimal" --results-directory "$RESULTS" "$@" || status=$?

# The Python client against the server that dotnet test just built (src/Lineage.Cli/bin/Release). A run narrowed
# with dotnet test arguments (--filter …) is about those tests only (LINEAGE_TEST_PYTHON_CLIENT=1 adds pytest to it);
# the full run (CI, no arguments) always has pytest.
python_status=0
run_python=1
if [ $# -gt 0 ] && [ -z "${LINEAGE_TEST_PYTHON_CLIENT:-}" ]; then run_python=0; echo "== Python client tests not run: dotnet test arguments narrowed this run"; fi
if [ "$run_python" = 0 ]; then :
elif ensure_pytest; then
  echo "== Python client tests (pytest)"
  "$PYTHON" -m pytest clients/python/tests -q -p no:cacheprovider --junitxml "$RESULTS/python.junit.xml" || python_status=$?
else
  echo "pytest is missing and could not be installed (apt-get install python3-pytest): the Python client tests FAILED" >&2
  python_status=1
fi

# Sum the counters of every TRX file (one per test project).
passed=0; failed=0; skipped=0; found=0
for trx in "$RESULTS"/*.trx; do
  [ -f "$trx" ] || continue
  found=1
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done
if [ "$found" = 0 ]; then
  echo "no test results: the build or the test host failed (see above)"
  failed=$((failed + 1))
elif [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi

# Add pytest's JUnit counters: tests, failures, errors, skipped of its one testsuite.
junit="$RESULTS/python.junit.xml"
if [ -f "$junit" ]; then
  suite=$(grep -o '<testsuite [^>]*>' "$junit" | head -n 1)
  jget() { echo "$suite" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  py_total=$(jget tests); py_failed=$(( $(jget failures) + $(jget errors) )); py_skipped=$(jget skipped)
  passed=$((passed + py_total - py_failed - py_skipped))
  failed=$((failed + py_failed))
  skipped=$((skipped + py_skipped))
  if [ "$python_status" != 0 ] && [ "$py_failed" = 0 ]; then failed=$((failed + 1)); fi
elif [ "$run_python" = 1 ]; then
  echo "no Python test results (pytest missing or crashed, see above)"
  failed=$((failed + 1))
fi
# LINEAGE_TEST_RESULTS=<folder> keeps the TRX and JUnit files (per-test durations) there.
if [ -n "${LINEAGE_TEST_RESULTS:-}" ]; then mkdir -p "$LINEAGE_TEST_RESULTS" && cp "$RESULTS"/* "$LINEAGE_TEST_RESULTS"/ 2>/dev/null || true; fi
rm -rf "$RESULTS"

if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ "$failed" = 0 ]
