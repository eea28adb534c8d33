#!/usr/bin/env python3
"""Checks a formatted output file of the output-volume benchmark: every host's lines are exactly
the payload, in the expected number; prints a JSON verdict.

  check_output.py FILE HOSTS LINES_PER_HOST PAYLOAD
Lines look like `host:payload` or `host: payload` (prefix up to the first ':', one optional space).
"""
import collections
import json
import sys

path, hosts, per_host, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].encode()
counts = collections.Counter()
bad = 0
total_bytes = 0
with open(path, "rb") as f:
    for line in f:
        total_bytes += len(line)
        host, sep, rest = line.partition(b":")
        if rest.startswith(b" "):
            rest = rest[1:]
        if sep and rest == payload + b"\n":
            counts[host] += 1
        else:
            bad += 1
payload_bytes = sum(counts.values()) * (len(payload) + 1)
ok = bad == 0 and len(counts) == hosts and all(c == per_host for c in counts.values())
print(json.dumps({"ok": ok, "hosts": len(counts), "lines": sum(counts.values()), "bad_lines": bad,
                  "expected_lines": hosts * per_host, "payload_bytes": payload_bytes,
                  "expected_payload_bytes": hosts * per_host * (len(payload) + 1),
                  "file_bytes": total_bytes, "min_per_host": min(counts.values(), default=0)}))
sys.exit(0 if ok else 1)
