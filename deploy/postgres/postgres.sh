#!/usr/bin/env bash
# A throwaway PostgreSQL on 127.0.0.1 for tests and local runs, from Debian's packages. No Docker.
#
#   deploy/postgres/postgres.sh start   install (apt) if missing, initdb if new, start, create the database
#   deploy/postgres/postgres.sh stop
#   deploy/postgres/postgres.sh url     print the SQLAlchemy URL
#
# Settings: PG_PORT (55432), PG_DATA_DIR (/tmp/charterwatch-pg), PG_DATABASE (charterwatch).
set -euo pipefail
port=${PG_PORT:-55432}
data=${PG_DATA_DIR:-/tmp/charterwatch-pg}
db=${PG_DATABASE:-charterwatch}

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$d" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}

install() {
  if [ -z "$(bindir)" ]; then
    echo "postgres.sh: installing PostgreSQL from Debian packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
  fi
}

as_pg() {
  # PostgreSQL refuses to run as root: run it as the postgres user when we are root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  install
  local bin; bin=$(bindir)
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres: "$data"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off" start >/dev/null
  fi
  as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
    || as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
  echo "postgres.sh: ready at $(url)" >&2
}

stop() {
  local bin; bin=$(bindir) || return 0
  [ -f "$data/PG_VERSION" ] || return 0
  as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  echo "postgres.sh: stopped" >&2
}

url() { echo "postgresql://postgres@127.0.0.1:$port/$db"; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
