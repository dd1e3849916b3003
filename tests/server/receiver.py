#!/usr/bin/env python3
"""A tiny report receiver for the tests: POST bodies are written to
DIR/report-NNNN.json, one file per request, and answered 200 (503 while a
file DIR/fail exists). Listens on 127.0.0.1, on a free port written to
DIR/port once it listens.

usage: receiver.py DIR
"""
import http.server
import os
import sys

DIR = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    count = 0

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(min(n, 1 << 20))
        if os.path.exists(os.path.join(DIR, "fail")):
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        Handler.count += 1
        name = os.path.join(DIR, "report-%04d.json" % Handler.count)
        with open(name + ".tmp", "wb") as f:
            f.write(body)
        os.rename(name + ".tmp", name)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, fmt, *args):
        pass


os.makedirs(DIR, exist_ok=True)
srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
srv.serve_forever()
