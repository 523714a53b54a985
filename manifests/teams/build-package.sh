#!/usr/bin/env bash
# Builds the Teams app package: manifest.json (placeholders filled in) + color.png + outline.png, zipped into
# manifests/teams/build/prequelbot-teams.zip. Upload it in Teams (Apps > Manage your apps > Upload an app) or the admin centre.
#
# Usage: manifests/teams/build-package.sh <bot-app-id> [teams-app-id]
#   bot-app-id   the Azure Bot's Microsoft App ID (Teams:AppId), a GUID
#   teams-app-id the Teams app's own id (a GUID); defaults to the bot app id
# Optional environment: DEVELOPER_NAME (default "PrequelBot"), WEBSITE_URL (https, default https://www.prequel.co).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bot_id="${1:-${TEAMS_BOT_APP_ID:-}}"
app_id="${2:-$bot_id}"
developer="${DEVELOPER_NAME:-PrequelBot}"
website="${WEBSITE_URL:-https://www.prequel.co}"
guid='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

if [[ -z "$bot_id" ]]; then echo "usage: $0 <bot-app-id> [teams-app-id]" >&2; exit 2; fi
if [[ ! "$bot_id" =~ $guid ]]; then echo "bot app id must be a GUID: $bot_id" >&2; exit 2; fi
if [[ ! "$app_id" =~ $guid ]]; then echo "teams app id must be a GUID: $app_id" >&2; exit 2; fi
if [[ ! "$website" =~ ^https:// ]]; then echo "WEBSITE_URL must start with https://" >&2; exit 2; fi

out="$here/build"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out"

python3 - "$here/manifest.json" "$stage/manifest.json" "$bot_id" "$app_id" "$developer" "${website%/}" <<'PY'
import json, sys
src, dst, bot, app, dev, web = sys.argv[1:]
text = open(src, encoding="utf-8").read()
for key, value in {"BOT_APP_ID": bot, "TEAMS_APP_ID": app, "DEVELOPER_NAME": dev, "WEBSITE_URL": web}.items():
    text = text.replace("{{" + key + "}}", json.dumps(value)[1:-1])
json.loads(text)  # still valid JSON
assert "{{" not in text, "unfilled placeholder"
open(dst, "w", encoding="utf-8").write(text)
PY
cp "$here/color.png" "$here/outline.png" "$stage/"

rm -f "$out/prequelbot-teams.zip"
if command -v zip >/dev/null 2>&1; then
  (cd "$stage" && zip -q -X "$out/prequelbot-teams.zip" manifest.json color.png outline.png)
else
  python3 - "$stage" "$out/prequelbot-teams.zip" <<'PY'
import sys, zipfile
stage, dst = sys.argv[1:]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for name in ("manifest.json", "color.png", "outline.png"):
        z.write(f"{stage}/{name}", name)
PY
fi
echo "$out/prequelbot-teams.zip"
