# Answers the handshake, logs to stderr, then dies on the first real request.
import sys, json
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "hello":
        print(json.dumps({"id": req["id"], "result": {"name": "crasher", "protocol": 1,
              "resource_kinds": ["module", "tcp_stream", "tls_stream", "udp_socket"],
              "namespaces": ["lunatic::message", "lifecycle"]}}), flush=True)
        continue
    print("crasher: about to fail on " + req["op"], file=sys.stderr, flush=True)
    sys.exit(3)
