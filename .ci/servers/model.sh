# Sourced by .ci/with-servers: start_model starts the server (unless its RESPONDER_TEST_* variables are set),
# exports them, and appends its stop function to STOPS.
#
# llama.cpp's own OpenAI-compatible server (`python -m llama_cpp.server`, llama-cpp-python's [server] extra) over
# the bundled GGUF, on a free loopback port, its log in $RESPONDER_CI_TMP. The model is the one the product
# assembles into its data dir (`responder model` assembles it first when it is not there yet). Exports
#   RESPONDER_TEST_OPENAI_BASE_URL  http://127.0.0.1:PORT/v1
#   RESPONDER_TEST_OPENAI_MODEL     the alias the server answers to
#   RESPONDER_TEST_OPENAI_GGUF      the file it serves (tests start a second server over it to kill)
# Two cores: two threads; a 4096-token context holds the drafting prompt (~950 tokens) and its reply.

MODEL_PID=""
MODEL_ALIAS="responder-ci-qwen2.5-coder-1.5b"

start_model() {
  if [[ -n "${RESPONDER_TEST_OPENAI_BASE_URL:-}" ]]; then
    export RESPONDER_TEST_OPENAI_BASE_URL RESPONDER_TEST_OPENAI_MODEL="${RESPONDER_TEST_OPENAI_MODEL:-$MODEL_ALIAS}"
    return 0
  fi
  local gguf port log
  gguf="$(_model_gguf)" || return 1
  port="$(free_port)"
  log="$RESPONDER_CI_TMP/model-server.log"
  "$RESPONDER_CI_VENV/bin/python" -m llama_cpp.server --model "$gguf" --model_alias "$MODEL_ALIAS" \
    --host 127.0.0.1 --port "$port" --n_ctx 4096 --n_threads 2 --verbose False >"$log" 2>&1 &
  MODEL_PID=$!
  STOPS+=(stop_model)
  if ! wait_for "the model server (log: $log)" 120 _model_answers "$port"; then
    tail -n 20 "$log" >&2 || true
    return 1
  fi
  export RESPONDER_TEST_OPENAI_BASE_URL="http://127.0.0.1:$port/v1"
  export RESPONDER_TEST_OPENAI_MODEL="$MODEL_ALIAS"
  export RESPONDER_TEST_OPENAI_GGUF="$gguf"
}

# The verified bundled GGUF in the product's data dir, assembled with the product's own command if need be.
_model_gguf() {
  local path
  path="$(_verified_gguf)"
  if [[ -z "$path" ]]; then
    echo "==> Assembling the bundled model for the model server (responder model)" >&2
    (cd "$RESPONDER_CI_ROOT" && "$RESPONDER_CI_VENV/bin/responder" model >&2) || return 1
    path="$(_verified_gguf)"
  fi
  [[ -n "$path" ]] || { echo "with-servers: the bundled model is not assembled and verified" >&2; return 1; }
  echo "$path"
}

_verified_gguf() {
  (cd "$RESPONDER_CI_ROOT" && "$RESPONDER_CI_VENV/bin/python" - <<'PY'
from bot.settings import Settings
from drafting.local_model import local_model_status

status = local_model_status(Settings().data_dir)
print(status.path.resolve() if status.verified else "")
PY
  )
}

# _model_answers PORT: the process we started is alive and lists its model at /v1/models.
_model_answers() {
  kill -0 "$MODEL_PID" 2>/dev/null || return 1
  "$RESPONDER_CI_VENV/bin/python" - "$1" "$MODEL_ALIAS" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v1/models", timeout=2) as response:
    sys.exit(0 if sys.argv[2] in {m["id"] for m in json.load(response)["data"]} else 1)
PY
}

stop_model() {
  stop_pid "$MODEL_PID"
  MODEL_PID=""
}
