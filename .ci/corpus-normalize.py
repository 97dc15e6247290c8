#!/usr/bin/env python3
"""Prints a trace's calls and results with timing taken out, for comparing two recordings.

Reads `luna-trace show --format jsonl` on stdin. Drops the event index and times, orders the
events by process (stable: each process's own order is kept; how processes interleave is
timing), renumbers message ids by first appearance in that order, and drops what the network
picks (port numbers in networking calls). Used by .ci/corpus.sh.
"""
import json
import sys

NETWORK_PREFIXES = ("tcp_", "tls_", "udp_", "resolve", "drop_dns", "drop_tcp", "drop_tls", "drop_udp")

events = [json.loads(line) for line in sys.stdin if line.strip()]
events.sort(key=lambda e: e.get("pid", 0))  # stable: per-process order kept
ids = {}
for e in events:
    for key in ("i", "start", "end"):
        e.pop(key, None)
    if "message" in e and e["message"]:
        e["message"] = ids.setdefault(e["message"], len(ids) + 1)
    if e.get("kind", "").startswith(NETWORK_PREFIXES):
        e.pop("args", None)  # ports and peer addresses differ per run
        e.pop("payload", None)
        e.pop("text", None)
    print(json.dumps(e, sort_keys=True))
