#!/usr/bin/env bash
# Runs PrequelBot on this machine against moto (AWS), a local PostgreSQL, a fake Slack and a fake Prequel,
# all on 127.0.0.1. Needs PREQUELBOT_LOCAL_POSTGRES: an Npgsql connection string of a role that may CREATE ROLE
# and GRANT on the database to onboard (see README "Run locally against moto"). Ctrl-C stops everything it started.
#
# Ports (override by environment): MOTO_PORT 5055, FAKE_SLACK_PORT 5056, FAKE_PREQUEL_PORT 5057, BOT_PORT 8080.
# Files: PREQUELBOT_LOCAL_DIR (default a new temp dir): state.db, moto.log, prequel.log, host.log.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
: "${PREQUELBOT_LOCAL_POSTGRES:?set PREQUELBOT_LOCAL_POSTGRES to an Npgsql connection string, e.g. Host=127.0.0.1;Port=5432;Username=postgres;Password=…;Database=shop}"
moto_port="${MOTO_PORT:-5055}" slack_port="${FAKE_SLACK_PORT:-5056}" prequel_port="${FAKE_PREQUEL_PORT:-5057}" bot_port="${BOT_PORT:-8080}"
dir="${PREQUELBOT_LOCAL_DIR:-$(mktemp -d -t prequelbot-local.XXXXXX)}"
mkdir -p "$dir"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped; logs and state are in $dir"
}
trap cleanup EXIT INT TERM

wait_for() { # url what
  for _ in $(seq 1 180); do
    curl -s -o /dev/null "$1" && return 0
    sleep 1
  done
  echo "$2 did not answer at $1 within 180 s" >&2
  exit 1
}

python3 -m moto.server -H 127.0.0.1 -p "$moto_port" >"$dir/moto.log" 2>&1 & pids+=($!)
python3 -u "$root/scripts/local/fake-prequel.py" --port "$prequel_port" >"$dir/prequel.log" 2>&1 & pids+=($!)
python3 -u "$root/scripts/local/fake-slack.py" --port "$slack_port" & pids+=($!)   # the "channel": printed here
wait_for "http://127.0.0.1:$moto_port/moto-api/" "moto"
python3 "$root/scripts/local/moto-seed.py" --endpoint "http://127.0.0.1:$moto_port" --instance mydb-prod

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export Aws__ServiceUrl="http://127.0.0.1:$moto_port" Aws__Region=us-east-1
export Storage__Provider=Sqlite Storage__ConnectionString="Data Source=$dir/state.db"
export Slack__SigningSecret="${SLACK_SIGNING_SECRET:-local-signing-secret}" Slack__BotToken=xoxb-local-bot-token
export Slack__ApiBaseUrl="http://127.0.0.1:$slack_port/api/"
export Prequel__BaseUrl="http://127.0.0.1:$prequel_port" Prequel__ApiKey=sk_staging_local_key
export Prequel__StaticIps__0=35.192.85.117 Prequel__StaticIps__1=35.192.85.118
export Databases__mydb__InstanceIdentifier=mydb-prod
export Databases__mydb__AdminConnectionString="$PREQUELBOT_LOCAL_POSTGRES"
export Approvals__Approvers__0="${SLACK_APPROVER:-U0APPROVER}"

echo "starting PrequelBot on http://127.0.0.1:$bot_port (log: $dir/host.log)"
(cd "$root" && exec dotnet run --project src/PrequelBot.Host -- --urls "http://127.0.0.1:$bot_port") >"$dir/host.log" 2>&1 & pids+=($!)
host=$!
wait_for "http://127.0.0.1:$bot_port/healthz" "PrequelBot"
grep -E '^ +(Storage|AWS|PostgreSQL sources|Prequel|Slack|Teams|Approvals):' "$dir/host.log" || true
cat <<TXT

Ready. In another terminal, from $root:
  scripts/local/slack.sh connect mydb
then click each button with the command printed below it. Ctrl-C here stops everything.
TXT
wait "$host"
