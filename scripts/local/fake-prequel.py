#!/usr/bin/env python3
"""A tiny stand-in for Prequel's source API on 127.0.0.1, so register-source completes locally.

Point the bot at it with Prequel__BaseUrl=http://127.0.0.1:<port> and Prequel__ApiKey=<the --key below>.
GET /sources lists the sources in memory (one page); POST /sources checks X-API-KEY, X-Prequel-Api-Version and the
body shape of that version, keeps the source and answers {"status": "success", "data": {"source": {"id", ...}}}.
It prints each source created with the password masked.

    python3 scripts/local/fake-prequel.py [--port 5057] [--key sk_staging_local_key]
"""
import argparse
import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SOURCES = []


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
    key = ""

    def log_message(self, *_):
        pass

    def answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def refused(self):
        if self.path.split("?")[0].rstrip("/") != "/sources":
            return self.answer(404, {"status": "error", "data": None, "message": "Not found"}) or True
        if self.headers.get("X-API-KEY") != self.key:
            return self.answer(401, {"status": "error", "data": None, "message": "Invalid API key"}) or True
        if self.headers.get("X-Prequel-Api-Version") not in ("2023-12-01", "2022-01-01"):
            return self.answer(400, {"status": "error", "data": None, "message": "Unknown X-Prequel-Api-Version"}) or True
        return False

    def do_GET(self):
        if self.refused():
            return
        with LOCK:
            items = [{"id": s["id"], "name": s["name"], "is_reachable": True} for s in SOURCES]
        self.answer(200, {"status": "success", "data": {"sources": items}, "has_next": False, "next_url": None, "message": None})

    def do_POST(self):
        raw = read_body(self)  # read first: the connection is kept alive
        if self.refused():
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self.answer(400, {"status": "error", "data": None, "message": "Invalid JSON"})
        source = body.get("source") or {}
        nested = self.headers.get("X-Prequel-Api-Version") == "2023-12-01"
        fields = (source.get("postgres") or {}) if nested else source
        password = (fields.get("password_auth") or {}).get("password") if nested else fields.get("password")
        if not source.get("name") or not fields.get("host") or not password:
            return self.answer(400, {"status": "error", "data": None, "message": "Invalid source body"})
        with LOCK:
            created = {"id": f"src_{len(SOURCES) + 1}", "name": source["name"]}
            SOURCES.append(created)
        shown = copy.deepcopy(body)
        if nested:
            shown["source"]["postgres"]["password_auth"]["password"] = "********"
        else:
            shown["source"]["password"] = "********"
        print(f"created source {created['id']}: {json.dumps(shown)}", flush=True)
        self.answer(200, {"status": "success", "data": {"source": {**created, "is_reachable": True}}, "message": None})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5057)
    parser.add_argument("--key", default="sk_staging_local_key")
    args = parser.parse_args()
    Handler.key = args.key
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"fake Prequel API on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
