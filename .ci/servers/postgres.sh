# Sourced by .ci/with-servers: start_postgres starts the server (unless its RESPONDER_TEST_* variables are set),
# exports them, and appends its stop function to STOPS.
#
# A throwaway cluster: initdb in its own temp dir, listening on 127.0.0.1 only (a free port) with its unix socket
# in that dir, trust auth for loopback only, one database `responder_test`; the superuser `responder` lets the
# tests create a database per test from a migrated template. initdb and the server refuse to run as root, so as
# root (CI containers) they run as the `postgres` OS user in a dir it owns.
POSTGRES_DIR=""

_pg_bin() {
  if command -v "$1" >/dev/null 2>&1; then
    command -v "$1"
  else
    local found
    found="$(ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$found" ] || { echo "with-servers: PostgreSQL's $1 is not installed" >&2; return 1; }
    echo "$found"
  fi
}

# Run a server-side command as a user the server accepts: ourselves, or `postgres` when we are root.
_pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_postgres() {
  if [ -n "${RESPONDER_TEST_DATABASE_URL:-}" ]; then return 0; fi
  local initdb pg_ctl createdb port
  initdb="$(_pg_bin initdb)" && pg_ctl="$(_pg_bin pg_ctl)" && createdb="$(_pg_bin createdb)" || return 1
  # Not under $RESPONDER_CI_TMP: that dir is private to us (0700), and as root the server runs as `postgres`.
  POSTGRES_DIR="$(mktemp -d -t responder-pg-XXXXXX)"
  STOPS+=(stop_postgres)
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 ||
      { echo "with-servers: as root, PostgreSQL runs as the postgres OS user (apt's postgresql creates it)" >&2; return 1; }
    chown postgres: "$POSTGRES_DIR"
  fi
  port="$(free_port)"
  _pg_as_owner "$initdb" -D "$POSTGRES_DIR/data" -U responder -A trust -E UTF8 --no-locale --no-sync \
    >"$POSTGRES_DIR/initdb.log" 2>&1 || { cat "$POSTGRES_DIR/initdb.log" >&2; return 1; }
  _pg_write_config "$port"
  _pg_as_owner "$pg_ctl" -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/server.log" -w -t 30 start >/dev/null ||
    { cat "$POSTGRES_DIR/server.log" >&2; return 1; }
  wait_for PostgreSQL 30 "$(_pg_bin pg_isready)" -h 127.0.0.1 -p "$port" -U responder
  "$createdb" -h 127.0.0.1 -p "$port" -U responder responder_test
  export RESPONDER_TEST_DATABASE_URL="postgresql+psycopg://responder@127.0.0.1:$port/responder_test"
}

_pg_write_config() {
  local port=$1
  # Loopback TCP and our own socket dir only; fsync off: the cluster is thrown away, so durability buys nothing.
  _pg_as_owner tee -a "$POSTGRES_DIR/data/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$POSTGRES_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
  _pg_as_owner tee "$POSTGRES_DIR/data/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
}

stop_postgres() {
  [ -n "$POSTGRES_DIR" ] || return 0
  if [ -f "$POSTGRES_DIR/data/postmaster.pid" ]; then
    _pg_as_owner "$(_pg_bin pg_ctl)" -D "$POSTGRES_DIR/data" -m fast -w -t 30 stop >/dev/null || true
  fi
  rm -rf "$POSTGRES_DIR"
  POSTGRES_DIR=""
}
