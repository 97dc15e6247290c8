# Answers the handshake, then prints a line that is not JSON.
import sys, json
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "hello":
        print(json.dumps({"id": req["id"], "result": {"name": "garbler", "protocol": 1,
              "resource_kinds": ["module", "tcp_stream", "tls_stream", "udp_socket"], "namespaces": ["lunatic::message", "lifecycle"]}}), flush=True)
    else:
        print("garbler: printing garbage", file=sys.stderr, flush=True)
        print("this is not json", flush=True)
