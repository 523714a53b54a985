#!/usr/bin/env python3
"""A tiny stand-in for the Slack Web API on 127.0.0.1, for running PrequelBot locally.

Point the bot at it with Slack__ApiBaseUrl=http://127.0.0.1:<port>/api/ . It answers chat.postMessage,
chat.update and chat.postEphemeral like Slack ({"ok": true, "channel": ..., "ts": ...}) and accepts posts to
response_urls under http://127.0.0.1:<port>/hooks/ (slack.sh sends that as the response_url). Every message is
printed as the channel would show it, and every Approve/Reject button with the command that clicks it.
GET /messages returns everything received as JSON.

    python3 scripts/local/fake-slack.py [--port 5056] [--token xoxb-local-bot-token]
"""
import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
MESSAGES = {}      # ts -> latest message body
LOG = []           # every call, in order
SHOWN = {}         # ts -> last printed rendering (chat.update prints only when something changed)
COUNTER = [0]


def slack_text(text):
    """Slack mrkdwn to something readable in a terminal: dates, mentions and escapes."""
    text = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]*)>", r"\1", text)
    text = re.sub(r"<@([A-Z0-9]+)>", r"@\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render(body):
    blocks = body.get("blocks") or []
    if not blocks:
        return [slack_text(body.get("text", ""))]
    lines = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append("## " + block["text"]["text"])
        elif kind == "section":
            lines.extend(slack_text(block["text"]["text"]).split("\n"))
        elif kind == "context":
            lines.extend("   " + slack_text(e.get("text", "")) for e in block.get("elements", []))
        elif kind == "actions":
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    lines.append(f"[ {element['text']['text']} ]  click:  scripts/local/slack.sh click "
                                 f"{element['action_id']} {element['value']}")
        elif kind == "divider":
            lines.append("---")
    return lines


def show(title, lines):
    print(f"\n=== {time.strftime('%H:%M:%S')} {title}", flush=False)
    for line in lines:
        print("  " + line)
    sys.stdout.flush()


def read_body(handler):
    """The request body, with Content-Length or chunked (.NET's JsonContent sends chunked)."""
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        data = b""
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return data
            data += handler.rfile.read(size)
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as .NET's HttpClient expects; every answer has Content-Length
    token = ""

    def log_message(self, *_):
        pass

    def answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/messages":
            with LOCK:
                return self.answer(200, {"messages": list(MESSAGES.values()), "calls": LOG})
        self.answer(404, {"ok": False, "error": "unknown_method"})

    def do_POST(self):
        raw = read_body(self)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self.answer(400, {"ok": False, "error": "invalid_json"})
        path = self.path.split("?")[0]
        if path.startswith("/hooks/"):
            with LOCK:
                LOG.append({"method": "response_url", "body": body})
            show("reply to the user only (response_url)", render(body))
            return self.answer(200, {"ok": True})
        if not path.startswith("/api/"):
            return self.answer(404, {"ok": False, "error": "unknown_method"})
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            return self.answer(200, {"ok": False, "error": "invalid_auth"})
        method = path[len("/api/"):]
        with LOCK:
            LOG.append({"method": method, "body": body})
            if method == "chat.postMessage":
                COUNTER[0] += 1
                ts = f"{int(time.time())}.{COUNTER[0]:06d}"
                body["ts"] = ts
                MESSAGES[ts] = body
                rendered = render(body)
                SHOWN[ts] = rendered
                where = f"in the thread of {body['thread_ts']}" if body.get("thread_ts") else "to the channel"
                show(f"new message {ts} {where} ({body.get('channel')})", rendered)
                return self.answer(200, {"ok": True, "channel": body.get("channel"), "ts": ts})
            if method == "chat.update":
                ts = body.get("ts")
                if ts not in MESSAGES:
                    return self.answer(200, {"ok": False, "error": "message_not_found"})
                body["thread_ts"] = MESSAGES[ts].get("thread_ts")
                MESSAGES[ts] = body
                rendered = render(body)
                if SHOWN.get(ts) != rendered:
                    SHOWN[ts] = rendered
                    show(f"message {ts} updated", rendered)
                return self.answer(200, {"ok": True, "channel": body.get("channel"), "ts": ts})
            if method == "chat.postEphemeral":
                show(f"only @{body.get('user')} sees (chat.postEphemeral)", render(body))
                return self.answer(200, {"ok": True, "message_ts": f"{int(time.time())}.000000"})
        self.answer(200, {"ok": False, "error": "unknown_method"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5056)
    parser.add_argument("--token", default="xoxb-local-bot-token")
    args = parser.parse_args()
    Handler.token = args.token
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"fake Slack Web API on http://127.0.0.1:{args.port}/api/ (response_urls under /hooks/)", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
