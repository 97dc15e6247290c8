# A minimal adapter that supports no resource kinds (traces moving resources are skipped).
import sys, json
for line in sys.stdin:
    req = json.loads(line)
    result = None
    if req["op"] == "hello":
        result = {"name": "bare", "protocol": 1, "resource_kinds": [], "namespaces": ["lunatic::message"]}
    print(json.dumps({"id": req["id"], "result": result}), flush=True)
