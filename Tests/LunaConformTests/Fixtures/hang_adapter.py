# Answers the handshake and reset, then never answers again (but keeps reading).
import sys, json
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] in ("hello", "reset"):
        result = None if req["op"] == "reset" else {"name": "hanger", "protocol": 1,
            "resource_kinds": ["module", "tcp_stream", "tls_stream", "udp_socket"],
            "namespaces": ["lunatic::message", "lifecycle"]}
        print(json.dumps({"id": req["id"], "result": result}), flush=True)
    else:
        print("hanger: ignoring " + req["op"], file=sys.stderr, flush=True)
