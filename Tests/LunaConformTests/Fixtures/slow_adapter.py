#!/usr/bin/env python3
"""A correct but slow adapter: the Python reference adapter behind a proxy that holds every
answer after the handshake for DELAY seconds before passing it on, one at a time. Replay
pipelines requests, so a later request's answer comes only after the earlier ones: this is
an adapter working through a backlog, as on a loaded machine, not a hung one."""
import os, subprocess, sys, threading, time

DELAY = float(os.environ.get("SLOW_ADAPTER_DELAY", "0.06"))
here = os.path.dirname(os.path.abspath(__file__))
reference = os.path.join(here, "..", "..", "..", "adapters", "python", "luna_adapter.py")
child = subprocess.Popen([sys.executable, reference], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         bufsize=0)

def answers():
    first = True
    for line in child.stdout:
        if not first:
            time.sleep(DELAY)
        first = False
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
    sys.stdout.buffer.close()

t = threading.Thread(target=answers)
t.start()
for line in sys.stdin.buffer:
    child.stdin.write(line)
child.stdin.close()
t.join()
child.wait()
