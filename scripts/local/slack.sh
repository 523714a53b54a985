#!/usr/bin/env bash
# Sends what Slack would send to a local PrequelBot, signed with Slack's v0 HMAC-SHA256 (openssl):
#   scripts/local/slack.sh connect mydb             # the slash command "/prequel connect mydb"
#   scripts/local/slack.sh click prequel_approve ap-…  # a block_actions click on a button (action_id, value)
# and prints the bot's answer. Settings (environment variables, defaults for scripts/local/run.sh):
#   PREQUELBOT_URL (http://127.0.0.1:8080), SLACK_SIGNING_SECRET (local-signing-secret),
#   SLACK_USER (U0REQUESTER: types commands), SLACK_APPROVER (U0APPROVER: clicks), SLACK_CHANNEL (C0LOCAL),
#   FAKE_SLACK_URL (http://127.0.0.1:5056: response_urls point there, as Slack's point to hooks.slack.com).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
url="${PREQUELBOT_URL:-http://127.0.0.1:8080}"
secret="${SLACK_SIGNING_SECRET:-local-signing-secret}"
channel="${SLACK_CHANNEL:-C0LOCAL}"
hooks="${FAKE_SLACK_URL:-http://127.0.0.1:5056}/hooks"

if [[ $# -eq 0 ]]; then
  echo "usage: $0 <command text…> | $0 click <action_id> <value>" >&2
  exit 2
fi

if [[ "$1" == "click" ]]; then
  [[ $# -eq 3 ]] || { echo "usage: $0 click <action_id> <value>" >&2; exit 2; }
  path=/slack/interactions
  body="$(python3 - "$2" "$3" "${SLACK_APPROVER:-U0APPROVER}" "$channel" "$hooks" <<'PY'
import json, sys, time, urllib.parse
action_id, value, user, channel, hooks = sys.argv[1:]
payload = {
    "type": "block_actions",
    "user": {"id": user, "username": user.lower(), "team_id": "T0LOCAL"},
    "team": {"id": "T0LOCAL", "domain": "local"},
    "channel": {"id": channel, "name": "local"},
    "container": {"type": "message", "channel_id": channel, "is_ephemeral": False},
    "response_url": f"{hooks}/actions/T0LOCAL/{int(time.time())}",
    "trigger_id": "1.2.local",
    "actions": [{"type": "button", "action_id": action_id, "block_id": "local", "value": value,
                 "action_ts": f"{time.time():.6f}"}],
}
print(urllib.parse.urlencode({"payload": json.dumps(payload)}))
PY
)"
else
  path=/slack/commands
  body="$(python3 - "$*" "${SLACK_USER:-U0REQUESTER}" "$channel" "$hooks" <<'PY'
import sys, time, urllib.parse
text, user, channel, hooks = sys.argv[1:]
print(urllib.parse.urlencode({
    "token": "unused", "team_id": "T0LOCAL", "team_domain": "local", "channel_id": channel,
    "channel_name": "local", "user_id": user, "user_name": user.lower(), "command": "/prequel", "text": text,
    "response_url": f"{hooks}/commands/T0LOCAL/{int(time.time())}", "trigger_id": "1.2.local"}))
PY
)"
fi

timestamp="$(date +%s)"
signature="v0=$(printf 'v0:%s:%s' "$timestamp" "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)"
answer="$(mktemp)"
trap 'rm -f "$answer"' EXIT
status="$(curl -sS -o "$answer" -w '%{http_code}' -X POST "$url$path" \
  -H 'Content-Type: application/x-www-form-urlencoded' \
  -H "X-Slack-Request-Timestamp: $timestamp" -H "X-Slack-Signature: $signature" \
  --data-binary "$body")"
echo "HTTP $status"
if [[ -s "$answer" ]]; then
  python3 - "$here/fake-slack.py" "$answer" <<'PY'
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("fake_slack", sys.argv[1])
fake = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fake)
raw = open(sys.argv[2], encoding="utf-8").read()
try:
    body = json.loads(raw)
except ValueError:
    print(raw)
    sys.exit(0)
for line in fake.render(body):
    print("  " + line)
PY
fi
