# Answers the handshake, then answers every request with an id that was never sent.
import sys, json
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "hello":
        print(json.dumps({"id": req["id"], "result": {"name": "misnumberer", "protocol": 1,
              "resource_kinds": ["module", "tcp_stream", "tls_stream", "udp_socket"], "namespaces": ["lunatic::message", "lifecycle"]}}), flush=True)
    else:
        print("misnumberer: answering id 999999", file=sys.stderr, flush=True)
        print(json.dumps({"id": 999999, "result": None}), flush=True)
