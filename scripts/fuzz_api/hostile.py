#!/usr/bin/env python3
"""Hand-written hostile requests against a running amibridge API (scripts/fuzz-api.sh phase c).

Raw sockets, so every byte is what the case says: headers and bodies over the limits, broken UTF-8,
CR/LF/NUL in paths, queries, headers, JSON and form bodies, huge/negative/float/NaN numbers,
SQL-looking strings, path traversal in the recording routes, slow-loris connections and 1,000
concurrent connections. No case may get a 5xx, hang, or an answer outside what it allows; /healthz
must answer after each group. Standard library only.

    hostile.py --port PORT --key KEY [--short] [--sql-marker TEXT]

Prints one line per failure and ends with `hostile: N cases passed, M failed`; exit 1 on a failure.
"""

import argparse
import json
import selectors
import socket
import sys
import time
import urllib.parse

HOST = "127.0.0.1"
CLOSE = "close"  # the server closed (or reset) the connection without answering
TIMEOUT = "timeout"


class Client:
    def __init__(self, port, key):
        self.port = port
        self.key = key
        self.passed = 0
        self.failed = []

    # -- one exchange -------------------------------------------------------------------------------

    def raw(self, data, timeout=10.0):
        """Sends `data` and reads the answer: (status or CLOSE or TIMEOUT, headers, body)."""
        try:
            sock = socket.create_connection((HOST, self.port), timeout=timeout)
        except OSError as error:
            return CLOSE, {}, str(error).encode()
        sock.settimeout(timeout)
        try:
            try:
                sock.sendall(data)
            except OSError:
                pass  # the server may answer and close before reading everything (413, 431)
            return read_response(sock, timeout)
        finally:
            sock.close()

    def request(self, method, target, body=b"", headers=None, auth=True, timeout=10.0):
        lines = [f"{method} ".encode() + as_bytes(target) + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
        if auth:
            lines.append(b"Authorization: Bearer " + self.key.encode())
        for name, value in (headers or {}).items():
            lines.append(as_bytes(name) + b": " + as_bytes(value))
        body = as_bytes(body)
        if body or method in ("POST", "PUT"):
            lines.append(b"Content-Length: " + str(len(body)).encode())
        return self.raw(b"\r\n".join(lines) + b"\r\n\r\n" + body, timeout)

    # -- verdicts -----------------------------------------------------------------------------------

    def check(self, name, answer, allowed, forbid_in_body=()):
        status, _, body = answer
        problem = None
        if status == TIMEOUT:
            problem = "no answer in time"
        elif isinstance(status, int) and status >= 500:
            problem = f"server error {status}"
        elif status not in allowed:
            problem = f"answered {status}, allowed {sorted(map(str, allowed))}"
        else:
            for text in forbid_in_body:
                if text.encode() in body:
                    problem = f"the body contains {text!r}"
        if problem:
            self.failed.append(f"{name}: {problem}: {body[:200]!r}")
            print(f"hostile: FAIL {name}: {problem}: {body[:200]!r}", flush=True)
        else:
            self.passed += 1

    def alive(self, group):
        """/healthz answers 200 within 5 s after a group of cases."""
        self.check(f"{group}: /healthz afterwards", self.request("GET", "/healthz", auth=False, timeout=5), {200})


def as_bytes(value):
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")


def read_response(sock, timeout):
    """One HTTP/1.1 response: by Content-Length, chunked, or until the server closes."""
    deadline = time.monotonic() + timeout
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                return CLOSE, {}, data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else CLOSE
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        length = headers.get("content-length")
        while True:
            if length is not None and len(body) >= int(length):
                body = body[: int(length)]
                break
            if headers.get("transfer-encoding", "").lower() == "chunked" and body.endswith(b"0\r\n\r\n"):
                break
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, headers, body
    except (socket.timeout, TimeoutError):
        return (TIMEOUT, {}, data)
    except OSError:
        # ECONNRESET: a server refusing a request by closing it.
        return (CLOSE, {}, data)


def q(text):
    return urllib.parse.quote(text, safe="")


# -- the cases --------------------------------------------------------------------------------------

def oversize(c):
    group = "oversize"
    limit = 1 << 20
    c.check(f"{group}: 100 KB header value", c.request("GET", "/v1/ping", headers={"X-Big": "a" * 100_000}), {431, 400, 413, CLOSE})
    c.check(f"{group}: 1 MB header value", c.request("GET", "/healthz", headers={"X-Big": "a" * 1_000_000}, auth=False), {431, 400, 413, CLOSE})
    many = {f"X-H{i}": "v" for i in range(10_000)}
    c.check(f"{group}: 10,000 headers", c.request("GET", "/v1/ping", headers=many), {431, 400, 413, CLOSE})
    c.check(f"{group}: 100 KB URL", c.request("GET", "/v1/agents/" + "a" * 100_000), {414, 431, 400, 404, CLOSE})
    c.check(f"{group}: 100 KB query", c.request("GET", "/v1/recordings?phone_number=" + "1" * 100_000), {414, 431, 400, CLOSE})
    big = b'{"agent_phone": "SIP/1001", "phone_number": "8005551234", "pad": "' + b"a" * (limit + 10) + b'"}'
    c.check(f"{group}: 1 MiB + JSON body to /v1/calls", c.request("POST", "/v1/calls", big, {"Content-Type": "application/json"}), {413, CLOSE})
    c.check(f"{group}: 1 MiB + JSON body to /v1/leads", c.request("POST", "/v1/leads", b"[" + b'{"a":1},' * (limit // 8) + b"{}]"), {413, CLOSE})
    form = b"function=version&pad=" + b"a" * (limit + 10)
    c.check(f"{group}: 1 MiB + form body to /agc/api.php", c.request("POST", "/agc/api.php", form, {"Content-Type": "application/x-www-form-urlencoded"}, auth=False), {413, CLOSE})
    c.check(f"{group}: 1 MiB + body to /v1/ping", c.request("POST", "/v1/ping", b"a" * (limit + 1)), {413, CLOSE})
    # A length announced but never sent: refused at once, not waited for.
    head = b"POST /v1/calls HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + c.key.encode() + b"\r\nContent-Length: 1000000000000\r\n\r\n{"
    c.check(f"{group}: Content-Length 10^12, 1 byte sent", c.raw(head, timeout=10), {413, CLOSE})
    head = b"POST /v1/ping HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + c.key.encode() + b"\r\nContent-Length: 99999999999999999999999\r\n\r\n"
    c.check(f"{group}: Content-Length over 64 bits", c.raw(head, timeout=10), {400, 413, CLOSE})
    head = b"POST /v1/ping HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\nhello"
    c.check(f"{group}: negative Content-Length", c.raw(head), {400, CLOSE})
    head = b"POST /v1/ping HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    c.check(f"{group}: Content-Length with chunked", c.raw(head), {400, 401, CLOSE})
    chunk = b"%x\r\n" % (1 << 20) + b"a" * (1 << 20) + b"\r\n"
    chunked = (b"POST /v1/calls HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " + c.key.encode()
               + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 2 + b"0\r\n\r\n")
    c.check(f"{group}: 2 MiB chunked body", c.raw(chunked), {413, CLOSE})
    c.check(f"{group}: chunk size not hex", c.raw(b"POST /v1/ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"), {400, CLOSE})
    c.check(f"{group}: HTTP/2 preface", c.raw(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), {400, 404, 505, CLOSE})
    c.check(f"{group}: garbage request line", c.raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256))), {400, CLOSE})
    c.alive(group)


def broken_utf8_and_controls(c):
    group = "bytes"
    bad = b"\xff\xfe\xc3\x28\xed\xa0\x80"
    # Paths and queries: raw bytes (not valid in a request line: 400 or close) and encoded ones.
    c.check(f"{group}: raw invalid UTF-8 in path", c.request("GET", b"/v1/agents/" + bad), {400, 404, CLOSE})
    c.check(f"{group}: %FF%FE in path", c.request("GET", "/v1/agents/%FF%FE%C3%28"), {400, 404})
    c.check(f"{group}: %FF in recording id", c.request("GET", "/v1/calls/%FF%FE/recording"), {400, 404})
    c.check(f"{group}: %C3%28 in query", c.request("GET", "/v1/recordings?phone_number=%C3%28&since=%FF"), {400})
    c.check(f"{group}: raw invalid UTF-8 in header", c.request("GET", "/v1/ping", headers={"X-Bad": bad}), {200, 400, CLOSE})
    c.check(f"{group}: invalid UTF-8 in bearer key", c.request("GET", "/v1/ping", headers={"Authorization": b"Bearer amib_" + bad}, auth=False), {400, 401, CLOSE})
    c.check(f"{group}: invalid UTF-8 in Idempotency-Key", c.request("POST", "/v1/calls", '{"agent_phone":"SIP/1001","phone_number":"8005551234"}', {"Idempotency-Key": bad}), {400, CLOSE})
    for name, body in [
        ("invalid UTF-8 in JSON string", b'{"agent_phone": "SIP/1001\xff", "phone_number": "8005551234"}'),
        ("lone surrogate escape in JSON", b'{"agent_phone": "SIP/1001", "phone_number": "8005551234", "campaign_id": "\\ud800"}'),
        ("invalid UTF-8 in variables", b'{"agent_phone": "SIP/1001", "phone_number": "8005551234", "variables": {"A": "\xc3\x28"}}'),
    ]:
        c.check(f"{group}: {name}", c.request("POST", "/v1/calls", body, {"Content-Type": "application/json"}), {400})
    c.check(f"{group}: invalid UTF-8 in JSON leads", c.request("POST", "/v1/leads", b'[{"phone_number": "8005551234", "list_id": 999, "first_name": "\xff"}]'), {200, 400})
    c.check(f"{group}: invalid UTF-8 in CSV leads", c.request("POST", "/v1/leads", b"phone_number,list_id,first_name\n8005551234,999,\xff\xfe\n", {"Content-Type": "text/csv"}), {200, 400})
    c.check(f"{group}: invalid UTF-8 in form", c.request("POST", "/agc/api.php", b"function=get_agent_status&user=x&api_key=" + c.key.encode() + b"&agent_user=\xff\xfe", {"Content-Type": "application/x-www-form-urlencoded"}, auth=False), {200, 400})
    c.check(f"{group}: %FF in compat query", c.request("GET", "/agc/api.php?function=version&user=%FF&api_key=%FE", auth=False), {200, 400})

    # CR, LF, NUL: raw ones break HTTP framing (400 or close); encoded ones reach validation.
    for name, target in [("raw NUL in path", b"/v1/ping\x00x"), ("raw CR in path", b"/v1/ping\rx"), ("raw LF in query", b"/v1/recordings?phone_number=1\n")]:
        c.check(f"{group}: {name}", c.request("GET", target), {400, 404, CLOSE})
    injection = "\r\nAction: Originate\r\nChannel: SIP/666\r\n\r\n"
    encoded = q(injection)
    c.check(f"{group}: CRLF in agent path", c.request("GET", "/v1/agents/fuzzagent" + encoded), {400, 404})
    c.check(f"{group}: NUL in agent path", c.request("GET", "/v1/agents/fuzz%00agent"), {400, 404})
    c.check(f"{group}: CRLF in call id", c.request("GET", "/v1/calls/x" + encoded), {400, 404})
    c.check(f"{group}: CRLF in call id (DELETE)", c.request("DELETE", "/v1/calls/x" + encoded), {400, 404})
    c.check(f"{group}: CRLF in recording id", c.request("GET", "/v1/calls/1.1" + encoded + "/recording"), {400, 404})
    c.check(f"{group}: CRLF in query", c.request("GET", "/v1/recordings?phone_number=8005551234" + encoded), {400})
    c.check(f"{group}: NUL in query", c.request("GET", "/v1/recordings?phone_number=8005551234&since=2026-01-01%00"), {400})
    c.check(f"{group}: raw NUL in header", c.request("GET", "/v1/ping", headers={"X-Nul": b"a\x00b"}), {200, 400, CLOSE})
    c.check(f"{group}: raw CR in header", c.request("GET", "/v1/ping", headers={"X-Cr": b"a\rb"}), {200, 400, CLOSE})
    c.check(f"{group}: CRLF in Idempotency-Key", c.request("POST", "/v1/calls", '{"agent_phone":"SIP/1001","phone_number":"8005551234"}', {"Idempotency-Key": "a\rAction: Hangup"}), {400, CLOSE})
    for field in ["agent_phone", "agent_user", "phone_number", "campaign_id", "caller_id"]:
        for text in [injection, "SIP/1001\u0000", "1001\rChannel: DAHDI/1", "\u2028\u0085"]:
            body = {"agent_phone": "SIP/1001", "phone_number": "8005551234"}
            if field == "agent_user":
                del body["agent_phone"]
            body[field] = text
            c.check(f"{group}: {field}={text!r}", c.request("POST", "/v1/calls", json.dumps(body), {"Content-Type": "application/json"}), {400})
    for variables in [{"A": injection}, {"A\r\nAction: Hangup": "1"}, {"A": "x\u0000y"}, {"CRM_CALL_ID": "x"}, {"": "x"}]:
        body = {"agent_phone": "SIP/1001", "phone_number": "8005551234", "variables": variables}
        c.check(f"{group}: variables={variables!r}", c.request("POST", "/v1/calls", json.dumps(body), {"Content-Type": "application/json"}), {400})
    for name, value in [("agent_user", "fuzzagent" + injection), ("phone_number", "8005551234" + injection), ("campaign_id", "X" + injection),
                        ("caller_id_number", "1" + injection), ("agent_user", "a\u0000b")]:
        form = {"function": "click2call", "user": "fuzz", "api_key": c.key, "agent_user": "fuzzagent", "phone_number": "8005551234", name: value}
        for method in ("GET", "POST"):
            encoded_form = urllib.parse.urlencode(form)
            answer = (c.request("GET", "/agc/api.php?" + encoded_form, auth=False) if method == "GET"
                      else c.request("POST", "/agc/api.php", encoded_form, {"Content-Type": "application/x-www-form-urlencoded"}, auth=False))
            c.check(f"{group}: compat {method} click2call {name}={value!r}", answer, {200, 400}, forbid_in_body=["status=SUCCESS", '"SUCCESS"'])
    c.check(f"{group}: CSV with CR/NUL cells", c.request("POST", "/v1/leads", "phone_number,list_id,first_name\r\n8005551234,999,\"a\rb\u0000c\"\r\n", {"Content-Type": "text/csv"}), {200, 400})
    c.alive(group)


def numbers(c):
    group = "numbers"
    for value in ["99999999999999999999999999", "-1", "0", "1.5", "NaN", "Infinity", "-Infinity", "1e309", "-0", "1e3", "9223372036854775808", "\"42\"", "null"]:
        body = '{"agent_phone": "SIP/1001", "phone_number": "8005551234", "lead_id": %s}' % value
        # null is no lead at all; "1e3" is a JSON number 1000 (a valid lead id): both may dial, so
        # they are sent with an invalid phone number and must be 400 for that.
        if value in ("null", "1e3"):
            body = body.replace("8005551234", "12")
        c.check(f"{group}: lead_id {value}", c.request("POST", "/v1/calls", body, {"Content-Type": "application/json"}), {400})
    for value in ["-1", "0", "1001", "99999999999999999999999", "1.5", "NaN", "1e3", "0x10", " 5", "5 ", "--5"]:
        c.check(f"{group}: limit={value}", c.request("GET", "/v1/recordings?phone_number=8005551234&limit=" + q(value)), {400})
    for value in ["99999-01-01", "-2026-01-01", "2026-01-01T10:00+99:00", "9999-12-31T23:59:59.999999999-14:00", "1000-01-01T00:00:00+14:00", "+002026-01-01"]:
        c.check(f"{group}: since={value}", c.request("GET", "/v1/recordings?phone_number=8005551234&since=" + q(value)), {200, 400})
    for field, value in [("list_id", 1e30), ("list_id", -1), ("list_id", 1.5), ("list_id", "99999999999999999999999"), ("list_id", 18446744073709551616),
                         ("rank", 99999999), ("rank", -99999999), ("called_count", -1), ("gmt_offset_now", "NaN"), ("gmt_offset_now", 1e300),
                         ("gmt_offset_now", "-99.99"), ("phone_code", -1), ("date_of_birth", "99999-12-31"), ("date_of_birth", "0000-00-00"),
                         ("entry_list_id", -5), ("owner", 12345678901234567890)]:
        row = {"phone_number": "8005551234", "list_id": 999, field: value}
        c.check(f"{group}: lead {field}={value!r}", c.request("POST", "/v1/leads", json.dumps([row])), {200, 400})
    c.check(f"{group}: lead NaN literal", c.request("POST", "/v1/leads", '[{"phone_number": "8005551234", "list_id": NaN}]'), {400})
    c.check(f"{group}: 10,001 leads", c.request("POST", "/v1/leads", json.dumps([{"phone_number": "1", "list_id": 1}] * 10_001)), {400, 413})
    c.check(f"{group}: deep JSON nesting", c.request("POST", "/v1/calls", "[" * 100_000 + "]" * 100_000), {400, 413})
    c.check(f"{group}: deep JSON nesting in leads", c.request("POST", "/v1/leads", "[" * 100_000 + "]" * 100_000), {400, 413})
    for value in ["-1", "99999999999999999999", "1.5", "NaN"]:
        c.check(f"{group}: compat lead_id={value}", c.request("GET", "/agc/api.php?" + urllib.parse.urlencode(
            {"function": "add_lead", "user": "fuzz", "api_key": c.key, "phone_number": "8005551234", "list_id": value}), auth=False), {200, 400})
    c.alive(group)


SQL = ["' OR '1'='1", "fuzzagent' -- ", "x'; DROP TABLE vicidial_users; --", "1; DELETE FROM recording_log", "\\' OR 1=1 #",
       "%' OR user LIKE '%", "\" OR \"\"=\"", "1 UNION SELECT pass FROM vicidial_users", "0x27", "fuzz\\", "%", "_"]


def sql_looking(c, marker):
    group = "sql"
    for text in SQL:
        c.check(f"{group}: agent {text!r}", c.request("GET", "/v1/agents/" + q(text)), {400, 404}, forbid_in_body=["fuzzagent"])
        c.check(f"{group}: recording {text!r}", c.request("GET", "/v1/calls/" + q(text) + "/recording"), {400, 404}, forbid_in_body=["fuzz_rec"])
        c.check(f"{group}: recordings phone {text!r}", c.request("GET", "/v1/recordings?phone_number=" + q(text)), {400})
        c.check(f"{group}: recordings since {text!r}", c.request("GET", "/v1/recordings?phone_number=5550100100&since=" + q(text)), {400})
        c.check(f"{group}: call agent_user {text!r}", c.request("POST", "/v1/calls", json.dumps({"agent_user": text, "phone_number": "8005551234"})), {400, 404})
        c.check(f"{group}: compat status {text!r}", c.request("GET", "/agc/api.php?" + urllib.parse.urlencode(
            {"function": "get_agent_status", "user": "fuzz", "api_key": c.key, "agent_user": text}), auth=False), {200}, forbid_in_body=["READY"])
    # One lead whose every text field is SQL: imported as written (read back by fuzz-api.sh).
    row = {"phone_number": "8005551234", "list_id": 998, "first_name": marker, "last_name": "x' OR '1'='1",
           "comments": "\\'; DELETE FROM vicidial_list; #", "city": "%", "email": "a@b.c' OR '1'='1"}
    status = c.request("POST", "/v1/leads", json.dumps([row]))
    c.check(f"{group}: SQL-looking lead imported", status, {200}, forbid_in_body=['"status":"invalid"'])
    csv = 'phone_number,list_id,first_name,comments\r\n8005551234,998,"' + marker.replace('"', '""') + '","1\'; DROP TABLE recording_log;--"\r\n'
    c.check(f"{group}: SQL-looking CSV lead imported", c.request("POST", "/v1/leads", csv, {"Content-Type": "text/csv"}), {200}, forbid_in_body=['"status":"invalid"'])
    c.alive(group)


def traversal(c):
    group = "traversal"
    passwd = ["root:", "/bin/", "daemon:"]
    for target in ["/v1/calls/../../../../etc/passwd/recording", "/v1/calls/..%2f..%2f..%2fetc%2fpasswd/recording",
                   "/v1/calls/%2e%2e%2f%2e%2e%2fetc%2fpasswd/recording", "/v1/calls/%2e%2e/recording", "/v1/calls/../recording",
                   "/v1/calls/%2fetc%2fpasswd/recording", "/v1/calls//etc/passwd/recording", "/v1/calls/....//....//etc/recording",
                   "/v1/calls/%252e%252e%252fetc/recording", "/v1/calls/..%5c..%5cwindows/recording", "/v1/calls/%c0%ae%c0%ae/recording",
                   "/v1/calls/1.1/recording/../../../../etc/passwd", "/v1/recordings/../../etc/passwd", "/v1/recordings/%2e%2e/%2e%2e/etc/passwd",
                   "/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "//etc/passwd", "/openapi.json/../../etc/passwd",
                   "/v1/calls/fuzz1700000000.1%00.mp3/recording", "/v1/calls/fuzz1700000000.1/recording?file=../../etc/passwd",
                   "/v1/recordings?phone_number=5550100100&location=/etc/passwd"]:
        c.check(f"{group}: {target}", c.request("GET", target), {200, 400, 404}, forbid_in_body=passwd)
    # The real recording, by its uniqueid: found, and nothing but its row.
    c.check(f"{group}: the fixture recording", c.request("GET", "/v1/calls/fuzz1700000000.1/recording"), {200}, forbid_in_body=passwd)
    c.alive(group)


def slow_loris(c, count, hold_seconds, idle_timeout=30):
    """`count` connections holding half-sent headers (a byte now and then) and `count / 2` idle ones,
    while normal requests must still be answered within 2 s each. Held past the API's idle timeout
    (`hold_seconds` > `idle_timeout`), the server must have closed every one of them."""
    group = "slow-loris"
    held = []
    for index in range(count):
        try:
            sock = socket.create_connection((HOST, c.port), timeout=5)
            sock.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Slow-" + str(index).encode() + b": ")
            held.append(sock)
        except OSError:
            break
    idle = []
    for _ in range(count // 2):
        try:
            idle.append(socket.create_connection((HOST, c.port), timeout=5))  # connected, nothing sent
        except OSError:
            break
    opened = f"{len(held)} held, {len(idle)} idle"
    c.check(f"{group}: {count} half-sent and {count // 2} idle connections opened",
            (200 if len(held) == count and len(idle) == count // 2 else CLOSE, {}, opened.encode()), {200})
    slowest = 0.0
    deadline = time.monotonic() + hold_seconds
    rounds = 0
    while time.monotonic() < deadline or rounds < 3:
        for sock in held:
            try:
                sock.send(b"a")  # one more byte of the header value: the head never ends
            except OSError:
                pass  # closed by the server
        for target, auth in [("/healthz", False), ("/v1/ping", True), ("/v1/agents/fuzzagent", True)]:
            start = time.monotonic()
            answer = c.request("GET", target, auth=auth, timeout=2)
            slowest = max(slowest, time.monotonic() - start)
            c.check(f"{group}: {target} while held (round {rounds})", answer, {200})
        rounds += 1
        time.sleep(0.5)
    still_open = 0
    for sock in held + idle:
        try:
            sock.setblocking(False)
            if sock.recv(1, socket.MSG_PEEK) != b"":
                still_open += 1  # answered something: not closed
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass  # reset by the server: closed
        sock.close()
    print(f"hostile: slow-loris: {len(held)} half-sent + {len(idle)} idle connections for {hold_seconds} s, {rounds} rounds of 3 requests, "
          f"slowest {slowest * 1000:.0f} ms, {still_open} still open at the end", flush=True)
    if hold_seconds > idle_timeout + 5:
        c.check(f"{group}: closed by the server after its {idle_timeout} s idle timeout",
                (200 if still_open == 0 else CLOSE, {}, f"{still_open} still open".encode()), {200})
    c.alive(group)


def concurrent(c, count, seconds):
    """`count` connections at once, each one request (/healthz or /v1/ping): every one answered
    200, or refused cleanly (connection refused or reset); none may hang past `seconds`."""
    group = "concurrent"
    selector = selectors.DefaultSelector()
    states = {}
    refused = 0
    for index in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        err = sock.connect_ex((HOST, c.port))
        if err not in (0, 115):  # EINPROGRESS
            refused += 1
            sock.close()
            continue
        target = b"/healthz" if index % 2 else b"/v1/ping"
        request = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " + c.key.encode() + b"\r\n\r\n"
        states[sock] = {"out": request, "in": b""}
        selector.register(sock, selectors.EVENT_WRITE)
    deadline = time.monotonic() + seconds
    answered = {}
    while states and time.monotonic() < deadline:
        for key, events in selector.select(timeout=0.5):
            sock = key.fileobj
            state = states[sock]
            try:
                if events & selectors.EVENT_WRITE and state["out"]:
                    sent = sock.send(state["out"])
                    state["out"] = state["out"][sent:]
                    if not state["out"]:
                        selector.modify(sock, selectors.EVENT_READ)
                    continue
                chunk = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = None
            if chunk:
                state["in"] += chunk
                continue
            # Closed: an answer, or a refusal.
            status = state["in"][9:12]
            if status.isdigit():
                answered[int(status)] = answered.get(int(status), 0) + 1
            else:
                refused += 1
            selector.unregister(sock)
            sock.close()
            del states[sock]
    hung = len(states)
    for sock in list(states):
        sock.close()
    selector.close()
    bad = {status: n for status, n in answered.items() if status != 200}
    summary = f"{count} connections: {answered.get(200, 0)} answered 200, {refused} refused, {hung} unanswered after {seconds} s, other {bad}"
    print(f"hostile: concurrent: {summary}", flush=True)
    c.check(f"{group}: {summary}", (200 if hung == 0 and not bad and answered.get(200, 0) > 0 else CLOSE, {}, summary.encode()), {200})
    c.alive(group)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--short", action="store_true", help="fewer slow-loris connections, shorter holds")
    parser.add_argument("--sql-marker", default="');DROP TABLE vicidial_list;#", help="first_name of the SQL-looking lead (at most 30 characters)")
    args = parser.parse_args()
    c = Client(args.port, args.key)
    started = time.monotonic()
    oversize(c)
    broken_utf8_and_controls(c)
    numbers(c)
    sql_looking(c, args.sql_marker)
    traversal(c)
    slow_loris(c, 200 if args.short else 500, 3 if args.short else 40)
    concurrent(c, 1000, 30)
    print(f"hostile: {c.passed} cases passed, {len(c.failed)} failed in {time.monotonic() - started:.1f} s", flush=True)
    sys.exit(1 if c.failed else 0)


if __name__ == "__main__":
    main()
