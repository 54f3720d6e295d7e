"""A webhook receiver for scripts/browser-test.sh that refuses, then accepts.

    python3 receiver.py --port-file FILE --log FILE --accept-file FILE

Answers every POST with 400 (so the dispatcher dead-letters it) until --accept-file exists, then
with 200. Each request is appended to --log as one JSON line: {"event_id", "event", "status"}.
The bound port (127.0.0.1, picked by the system) is written to --port-file.
"""

import argparse
import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--accept-file", required=True)
    args = parser.parse_args()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1: keep-alive, and libcurl's `Expect: 100-continue` is answered at once (with
        # HTTP/1.0 curl waits a second for it before sending a larger body).
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            # Headers and body go out as two writes: without this the body waits for a delayed ACK.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = 200 if os.path.exists(args.accept_file) else 400
            try:
                event = json.loads(body)
            except ValueError:
                event = {}
            line = {
                "event_id": self.headers.get("X-AMIBridge-Event-ID") or event.get("event_id"),
                "event": event.get("event"),
                "status": status,
            }
            with lock, open(args.log, "a") as log:
                log.write(json.dumps(line) + "\n")
            answer = b'{"ok":true}' if status == 200 else b'{"error":"refused for the test"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_):
            pass

    class Server(ThreadingHTTPServer):
        # The dispatcher's 8 workers connect at once: a backlog of 5 (the default) drops SYNs,
        # and each dropped one costs its request a second.
        request_queue_size = 64
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as port_file:
        port_file.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
