# Sourced by .ci/with-servers: start_chroma starts the server (unless its RESPONDER_TEST_* variables are set),
# exports them, and appends its stop function to STOPS.
#
# A throwaway Chroma server (`chroma run`, shipped with the chromadb package) on a free loopback port, its data
# and log in $RESPONDER_CI_TMP. Telemetry is off. The tests in tests/retrieval run their `[server]` leg against it.

CHROMA_PID=""

start_chroma() {
  if [[ -n "${RESPONDER_TEST_CHROMA_HOST:-}" ]]; then
    export RESPONDER_TEST_CHROMA_HOST RESPONDER_TEST_CHROMA_PORT="${RESPONDER_TEST_CHROMA_PORT:-8000}"
    return 0
  fi
  local port log
  port="$(free_port)"
  log="$RESPONDER_CI_TMP/chroma.log"
  ANONYMIZED_TELEMETRY=False "$RESPONDER_CI_VENV/bin/chroma" run \
    --path "$RESPONDER_CI_TMP/chroma" --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
  CHROMA_PID=$!
  STOPS+=(stop_chroma)
  if ! wait_for "the Chroma server (log: $log)" 60 chroma_heartbeat "$port"; then
    tail -n 20 "$log" >&2 || true
    return 1
  fi
  export RESPONDER_TEST_CHROMA_HOST=127.0.0.1
  export RESPONDER_TEST_CHROMA_PORT="$port"
}

# chroma_heartbeat PORT: the server answers its heartbeat (API v2; this chromadb no longer serves v1) and the
# process we started is still the one answering.
chroma_heartbeat() {
  kill -0 "$CHROMA_PID" 2>/dev/null || return 1
  "$RESPONDER_CI_VENV/bin/python" - "$1" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/v2/heartbeat", timeout=2) as response:
    sys.exit(0 if "nanosecond heartbeat" in json.load(response) else 1)
PY
}

stop_chroma() {
  stop_pid "$CHROMA_PID"
  CHROMA_PID=""
}
