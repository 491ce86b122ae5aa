#!/usr/bin/env python3
"""A loopback webhook receiver for the benchmarks: answers 204 to every POST, checks the X-Flock-Signature of each
request (HMAC-SHA256 of "t.body"), and writes the running totals (requests, events, bad signatures) to a file after
each request, so the bench script can report them. Stops by itself after --max-seconds.

    bench/webhook-receiver.py PORT SECRET TOTALS_FILE [--max-seconds 3600]
"""
import hashlib, hmac, http.server, json, sys, threading, time

port, secret, totals_file = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
max_seconds = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--max-seconds" else 3600
lock = threading.Lock()
totals = {"requests": 0, "events": 0, "badSignatures": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        parts = dict(p.split("=", 1) for p in self.headers.get("X-Flock-Signature", "t=0,v1=").split(","))
        want = hmac.new(secret, parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
        good = hmac.compare_digest(want, parts.get("v1", ""))
        with lock:
            totals["requests"] += 1
            totals["events"] += len(json.loads(body)["events"]) if good else 0
            totals["badSignatures"] += 0 if good else 1
            with open(totals_file, "w") as f:
                json.dump(totals, f)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
threading.Timer(max_seconds, server.shutdown).start()
server.serve_forever()
