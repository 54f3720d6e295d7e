#!/usr/bin/env python3
"""What scripts/fuzz-api.sh's phases left behind, counted (standard library only).

    report.py schemathesis DIR...           cases, 5xx answers and (operation, check) pairs that failed
                                            in the NDJSON reports
    report.py actions LOG FROM TO [DIR]     AMI actions in lines FROM+1..TO of simulate's action log
                                            that no valid request explains: with DIR (a negative-only
                                            schemathesis report) an Originate/Hangup is explained by
                                            the positive-mode case whose answer carried its call id;
                                            without DIR nothing is (the hostile phase dials nothing)

Each prints one line of `name=value` pairs, details of every finding on stderr.
"""

import base64
import glob
import json
import os
import re
import sys

# What the daemon's own AMI session sends: login, setup, keepalive, the channel listing after a
# (re)connect, and the goodbye.
SESSION_ACTIONS = {"login", "challenge", "events", "filter", "ping", "coreshowchannels", "logoff"}
CALL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def events(directory):
    for path in glob.glob(os.path.join(directory, "*.ndjson")):
        with open(path) as file:
            for line in file:
                yield json.loads(line)


def scenarios(directory):
    for event in events(directory):
        finished = event.get("ScenarioFinished")
        if finished:
            yield finished["recorder"]


def body_text(response):
    content = (response or {}).get("content") or (response or {}).get("body") or {}
    if "$base64" in content:
        return base64.b64decode(content["$base64"]).decode("utf-8", "replace")
    return content.get("string", "") if isinstance(content, dict) else str(content)


def schemathesis(directories):
    cases = server_errors = 0
    failures = set()
    for directory in directories:
        for recorder in scenarios(directory):
            cases += len(recorder.get("cases", {}))
            for case_id, interaction in recorder.get("interactions", {}).items():
                status = ((interaction or {}).get("response") or {}).get("status_code") or 0
                if status >= 500:
                    server_errors += 1
                    request = interaction.get("request", {})
                    print(f"fuzz-api: 5xx: {request.get('method')} {request.get('uri')} -> {status}: {body_text(interaction.get('response'))[:200]}", file=sys.stderr)
            for case_id, checks in recorder.get("checks", {}).items():
                for check in checks:
                    if check.get("status") == "failure":
                        failures.add((recorder.get("label"), check.get("name")))
    for label, name in sorted(failures):
        print(f"fuzz-api: nonconforming: {label}: {name}", file=sys.stderr)
    print(f"cases={cases} server_errors={server_errors} nonconforming={len(failures)}")


def actions(log, start, end, directory):
    with open(log) as file:
        lines = file.readlines()[start:end]
    # Call ids answered to positive-mode cases: their Originate/Hangup came from a valid request.
    explained = set()
    answered = {}  # call id -> the case whose answer carried it, for the report
    if directory:
        for recorder in scenarios(directory):
            cases = recorder.get("cases", {})
            for case_id, interaction in recorder.get("interactions", {}).items():
                meta = cases.get(case_id, {}).get("value", {}).get("meta", {})
                ids = CALL_ID.findall(body_text((interaction or {}).get("response")))
                if meta.get("generation", {}).get("mode") == "positive":
                    explained.update(ids)
                request = (interaction or {}).get("request", {})
                for call_id in ids:
                    answered[call_id] = (f"{meta.get('generation', {}).get('mode')} case {case_id} ({meta.get('phase', {}).get('name')}, "
                                         f"{json.dumps(meta.get('components', {}))}): {request.get('method')} {request.get('uri')} "
                                         f"{request.get('headers')} {body_text(request)[:300]!r}")
    unexplained = 0
    counted = 0
    for line in lines:
        fields = json.loads(line)["fields"]
        name = next((value for key, value in fields if key.lower() == "action"), "").lower()
        if name in SESSION_ACTIONS:
            continue
        counted += 1
        ids = set(CALL_ID.findall(" ".join(value for _, value in fields)))
        if ids and ids <= explained:
            continue
        unexplained += 1
        print(f"fuzz-api: AMI action from an invalid request: {line.strip()[:300]}", file=sys.stderr)
        for call_id in ids:
            print(f"fuzz-api:   {call_id} was answered to {answered.get(call_id, 'no recorded request')}", file=sys.stderr)
    print(f"actions={counted} unexplained={unexplained}")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "schemathesis":
        schemathesis(sys.argv[2:])
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "actions":
        actions(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] if len(sys.argv) == 6 else None)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
