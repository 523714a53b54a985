#!/usr/bin/env bash
# Runs the whole test suite against a throwaway PostgreSQL cluster and a moto server (CONTRACT §1).
# Usage: scripts/test.sh [extra dotnet test arguments]
# Exit code: the exit code of `dotnet test`.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

log() { printf 'test.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else return 1
  fi
}

find_pg_bin() {
  local initdb
  initdb="$(ls -1 /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$initdb" ] && dirname "$initdb"
}

# 1. PostgreSQL server binaries (Debian's package) ---------------------------------------------
pg_bin="$(find_pg_bin || true)"
if [ -z "$pg_bin" ]; then
  log "PostgreSQL server binaries not found; installing Debian's postgresql package"
  if ! { as_root apt-get update \
         && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; }; then
    die "could not install PostgreSQL (apt-get install postgresql failed or no root/sudo); install it and re-run"
  fi
  pg_bin="$(find_pg_bin || true)"
  [ -n "$pg_bin" ] || die "postgresql was installed but no /usr/lib/postgresql/*/bin/initdb was found"
fi
log "using PostgreSQL binaries in $pg_bin"

# 2. moto ----------------------------------------------------------------------------------------
if ! python3 -c 'import moto.server' >/dev/null 2>&1; then
  echo "moto is missing: python3 -m moto.server is required (the machine image ships moto 5.2.1 with server extras; PyPI is not reachable here)" >&2
  exit 1
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# 3-5. Throwaway services, always cleaned up -----------------------------------------------------
tmp_dir="$(mktemp -d "${TMPDIR:-/tmp}/prequelbot-test.XXXXXX")"
pg_data="$tmp_dir/pgdata"
moto_pid=""
pg_started=""
test_pid=""
run_as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' OS user to own the cluster"
  run_as_pg=(runuser -u postgres --)
fi

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  cd / || true
  if [ -n "$test_pid" ]; then
    log "interrupted: stopping dotnet test"
    kill "$test_pid" 2>/dev/null || true
    wait "$test_pid" 2>/dev/null || true
  fi
  if [ -n "$moto_pid" ]; then
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
  fi
  if [ -n "$pg_started" ]; then
    "${run_as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" stop -m immediate >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp_dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_port="$(free_port)"
pg_password="$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
printf '%s\n' "$pg_password" > "$tmp_dir/pwfile"
chmod 600 "$tmp_dir/pwfile"
if [ "${#run_as_pg[@]}" -gt 0 ]; then chown -R postgres: "$tmp_dir"; fi

log "starting PostgreSQL on 127.0.0.1:$pg_port"
cd "$tmp_dir" # the postgres OS user may not be allowed into the repository (e.g. a clone under /root)
"${run_as_pg[@]}" "$pg_bin/initdb" -D "$pg_data" -U postgres --pwfile="$tmp_dir/pwfile" \
  --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$tmp_dir/initdb.log" 2>&1 \
  || { cat "$tmp_dir/initdb.log" >&2; die "initdb failed"; }
rm -f "$tmp_dir/pwfile"
pg_started=1
"${run_as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -l "$tmp_dir/postgres.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$tmp_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  start >/dev/null \
  || { cat "$tmp_dir/postgres.log" >&2; die "PostgreSQL did not start"; }
PGPASSWORD="$pg_password" "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -tAc 'select 1' >/dev/null \
  || die "PostgreSQL started but refused a password login over TCP on 127.0.0.1:$pg_port"
cd "$repo_root"
export PREQUELBOT_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Password=$pg_password;Database=postgres"

moto_port="$(free_port)"
log "starting moto on 127.0.0.1:$moto_port"
python3 -m moto.server -H 127.0.0.1 -p "$moto_port" >"$tmp_dir/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$moto_port/moto-api/" 2>/dev/null; then break; fi
  kill -0 "$moto_pid" 2>/dev/null || { cat "$tmp_dir/moto.log" >&2; die "moto exited during start-up"; }
  sleep 0.2
done
curl -fsS -o /dev/null "http://127.0.0.1:$moto_port/moto-api/" \
  || { cat "$tmp_dir/moto.log" >&2; die "moto did not answer on 127.0.0.1:$moto_port"; }

export Aws__ServiceUrl="http://127.0.0.1:$moto_port"
export Aws__Region=us-east-1
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true

# 6. The tests -----------------------------------------------------------------------------------
log "running dotnet test PrequelBot.sln -c Release $*"
# In the background and waited for, so that an interrupt reaches the trap at once.
test_log="$tmp_dir/dotnet-test.log"
dotnet test PrequelBot.sln -c Release "$@" > "$test_log" 2>&1 &
test_pid=$!
# Show the output as it comes; tail ends by itself once dotnet test has exited and everything is printed.
tail -n +1 -f --pid="$test_pid" "$test_log" &
tail_pid=$!
set +e
wait "$test_pid"
test_rc=$?
wait "$tail_pid"
set -e
test_pid=""
# One closing line with the totals over every test assembly ("N passed, N failed").
totals="$(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+' "$test_log" 2>/dev/null \
  | awk '{ gsub(",", ""); failed += $2; passed += $4 } END { printf "%d passed, %d failed", passed, failed }')"
if [ "$test_rc" -eq 0 ]; then
  log "SUMMARY: all tests passed (dotnet test exit code 0)"
else
  log "SUMMARY: tests FAILED (dotnet test exit code $test_rc)"
fi
echo "${totals:-0 passed, 0 failed}"
exit "$test_rc"
