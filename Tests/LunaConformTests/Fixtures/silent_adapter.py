# Never answers the handshake.
import sys, time
print("silent: started, will not answer", file=sys.stderr, flush=True)
for line in sys.stdin:
    pass
