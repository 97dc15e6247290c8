#!/usr/bin/env python3
"""pyluna: an independent implementation of the lunatic message API, as a luna-conform adapter.

Written from docs/SEMANTICS.md (rule ids in comments) and docs/ADAPTER_PROTOCOL.md; standard library
only. Run: python3 adapters/python/luna_adapter.py   (requests on stdin, responses on stdout).

Design (protocol section 2.1): the main thread reads requests and runs each one inline under one
lock, in arrival order. A receive that cannot complete at once parks a waiter with a deadline; a
later delivery or the timer thread completes it and then runs the requests queued behind it.
"""

import heapq
import itertools
import json
import sys
import threading
import time

PROTOCOLS = (1, 2)  # protocol 2 adds "guest_fault" (a guest buffer outside guest memory)
TIMEOUT_CODE = 9027
KINDS = ("module", "tcp_stream", "tls_stream", "udp_socket")
MOVED_KINDS = ("tcp_stream", "tls_stream", "udp_socket")  # R-RES-3: modules are shared
BLOCKING = ("receive", "send_receive_skip_search")


def log(*args):
    print("pyluna:", *args, file=sys.stderr, flush=True)


class Trap(Exception):
    """A host call trapped; the calling process ends with failure."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class Ended(Exception):
    """The calling process ended during the call (it never returns, R-PROC-8)."""


class BadRequest(Exception):
    """The request itself is malformed (answered with an `error` response)."""


class Resource:
    def __init__(self, kind, token):
        self.kind = kind
        self.token = token


class Message:
    def __init__(self, token, kind, tag):
        self.token = token
        self.kind = kind  # "data" or "link_died" (R-MSG-1)
        self.tag = tag
        self.buf = bytearray()
        self.pos = 0
        self.slots = []

    def describe(self):
        return {
            "message": self.token, "kind": self.kind, "tag": self.tag, "size": len(self.buf),
            "hex": self.buf.hex(),
            "slots": [None if r is None else {"kind": r.kind, "token": r.token} for r in self.slots],
        }


class Waiter:
    """A parked receive or send_receive_skip_search."""

    def __init__(self, req_id, op, tags, mark, deadline):
        self.req_id = req_id
        self.op = op
        self.tags = tags      # receive: list of tags ([] = any); srss: None = any, or [t]
        self.mark = mark      # srss: mailbox length when waiting began (R-RECV-7)
        self.deadline = deadline
        self.active = True


class Proc:
    def __init__(self, pid):
        self.pid = pid
        self.scratch = None               # R-MSG-3
        self.mailbox = []                 # R-RECV-1
        self.tables = {k: {} for k in KINDS}
        self.next_id = {k: 0 for k in KINDS}   # R-RES-1
        self.links = {}                   # other pid -> the tag this side remembers (R-PROC-3)
        self.die_when_link_dies = True    # R-PROC-5 default
        self.status = None                # None while running
        self.reason = ""
        self.waiter = None
        self.queue = []                   # requests waiting behind a blocked call
        self.exit_waiters = []            # (req_id, deadline) of wait_exit requests
        self.signals = []                 # (pid, tag, die) "no process" link notices not yet handled

    def insert(self, resource):
        rid = self.next_id[resource.kind]
        self.next_id[resource.kind] += 1
        self.tables[resource.kind][rid] = resource
        return rid


def tag_matches(msg, tags):
    """R-RECV-2/3: empty set takes anything; otherwise the tag must be non-zero and in the set."""
    if not tags:
        return True
    return msg.tag != 0 and msg.tag in tags


class Adapter:
    def __init__(self, out):
        self.out = out
        self.lock = threading.Condition()
        self.tokens = itertools.count(1)
        self.timers = []
        self.timer_seq = itertools.count()
        self.reset_env()
        threading.Thread(target=self.timer_loop, daemon=True).start()

    # ---- output -------------------------------------------------------------------------
    def respond(self, obj):
        self.out.write(json.dumps(obj, separators=(",", ":")) + "\n")
        self.out.flush()

    def token(self, prefix):
        return "%s%d" % (prefix, next(self.tokens))

    # ---- environment ------------------------------------------------------------------
    def reset_env(self):
        self.procs = {}
        self.next_pid = 1  # R-PROC-1
        self.doomed = set()  # pids a host kill is ending together
        self.cascade = None  # processes a link death is ending, in order, while one is delivered

    def alive(self, pid):
        p = self.procs.get(pid)
        return p is not None and p.status is None

    # ---- timers ---------------------------------------------------------------------------
    def add_timer(self, deadline, action):
        heapq.heappush(self.timers, (deadline, next(self.timer_seq), action))
        self.lock.notify_all()

    def timer_loop(self):
        with self.lock:
            while True:
                if not self.timers:
                    self.lock.wait()
                    continue
                deadline, _, action = self.timers[0]
                now = time.monotonic()
                if deadline > now:
                    self.lock.wait(deadline - now)
                    continue
                heapq.heappop(self.timers)
                action()

    # ---- request entry --------------------------------------------------------------------
    def handle_line(self, line):
        try:
            req = json.loads(line)
            if not isinstance(req, dict) or not isinstance(req.get("id"), int):
                raise ValueError("not a request object with an integer id")
        except ValueError as e:
            log("unreadable request:", e)
            return
        with self.lock:
            try:
                self.dispatch(req)
            except BadRequest as e:
                self.respond({"id": req["id"], "error": str(e)})

    def dispatch(self, req):
        op = req.get("op")
        rid = req["id"]
        if op == "hello":
            offered = req.get("protocols", [req.get("protocol", 1)])
            self.protocol = max([v for v in offered if v in PROTOCOLS] or [1])
            self.respond({"id": rid, "result": {
                "name": "pyluna", "version": "1.1", "protocol": self.protocol,
                "resource_kinds": list(KINDS), "namespaces": ["lunatic::message", "lifecycle"]}})
            return
        if op == "reset":
            for p in list(self.procs.values()):
                if p.status is None:
                    self.end(p, "killed", "reset", notify=False)
            self.reset_env()
            self.respond({"id": rid, "result": None})
            return
        if op == "spawn":
            parent = int(req.get("parent", 0))
            link = int(req.get("link", 0))
            p = Proc(self.next_pid)
            self.next_pid += 1
            self.procs[p.pid] = p
            if link != 0 and self.alive(parent):  # R-PROC-4: asymmetric tags
                p.links[parent] = link
                self.procs[parent].links[p.pid] = 0
            self.respond({"id": rid, "result": {"pid": p.pid}})
            return
        if op == "kill" and req.get("process") == 0:
            self.host_kill(req)
            self.respond({"id": rid, "result": None})
            return
        if op == "wait_exit":
            p = self.proc_of(req)
            if p.status is not None:
                self.respond({"id": rid, "result": {"exit": p.status, "reason": p.reason}})
                return
            timeout = int(req.get("timeout_ms", 0))
            if timeout == 0:
                self.respond({"id": rid, "result": {"exit": "running", "reason": ""}})
                return
            entry = [rid, True]
            p.exit_waiters.append(entry)
            if timeout > 0:
                def expire(p=p, entry=entry):
                    if entry[1]:
                        entry[1] = False
                        p.exit_waiters.remove(entry)
                        self.respond({"id": entry[0], "result": {"exit": "running", "reason": ""}})
                self.add_timer(time.monotonic() + timeout / 1000.0, expire)
            return
        p = self.proc_of(req)
        if p.status is not None:
            self.respond({"id": rid, "ended": p.status})
            return
        if p.waiter is not None or p.queue:
            p.queue.append(req)  # protocol 2.1 rule 2
            return
        self.run(p, req)

    def proc_of(self, req):
        pid = req.get("process")
        p = self.procs.get(pid)
        if p is None:
            raise BadRequest("unknown process %r" % (pid,))
        return p

    def run(self, p, req):
        """Runs one request of a running, idle process and answers it unless it parked."""
        rid = req["id"]
        op = req.get("op")
        handler = getattr(self, "op_" + str(op), None)
        if handler is None:
            kind_op = self.resource_op(op)
            if kind_op is None:
                raise BadRequest("unknown op %r" % (op,))
            handler = kind_op
        try:
            if req.get("guest_fault") and op in ("write_data", "read_data", "receive"):
                # The guest's buffer lies outside its memory (protocol 2): the call traps
                # (R-RECV-9 for receive's tag array).
                raise Trap("lunatic::message::" + op)
            if op in BLOCKING and op != "send_receive_skip_search" and self.handle_signals(p):
                self.respond({"id": rid, "ended": p.status})
                return
            result = handler(p, req)
        except Trap as t:
            scratch = p.scratch.describe() if p.scratch is not None else None
            self.respond({"id": rid, "trap": t.reason, "scratch": scratch})
            self.end(p, "failure", t.reason)
            return
        except Ended:
            self.respond({"id": rid, "ended": p.status})
            return
        except (KeyError, TypeError, ValueError) as e:
            raise BadRequest("bad request %s: %s" % (op, e))
        if result is PARKED:
            return
        self.respond({"id": rid, "result": result})

    def drain(self, p):
        """Runs the requests queued behind a call that just returned."""
        while p.queue and p.waiter is None and p.status is None:
            req = p.queue.pop(0)
            try:
                self.run(p, req)
            except BadRequest as e:
                self.respond({"id": req["id"], "error": str(e)})

    # ---- process ends and links (R-PROC-2…8) ---------------------------------------------
    def end(self, p, status, reason, notify=True):
        if p.status is not None:
            return
        p.status = status
        p.reason = reason
        if p.waiter is not None:  # R-PROC-8: never returns
            p.waiter.active = False
            self.respond({"id": p.waiter.req_id, "ended": status})
            p.waiter = None
        for req in p.queue:
            self.respond({"id": req["id"], "ended": status})
        p.queue = []
        p.scratch = None          # R-PROC-7
        p.mailbox = []
        links = p.links
        p.links = {}
        for other_pid in links:
            other = self.procs.get(other_pid)
            if other is not None:
                other.links.pop(p.pid, None)
        for entry in p.exit_waiters:
            if entry[1]:
                entry[1] = False
                self.respond({"id": entry[0], "result": {"exit": status, "reason": reason}})
        p.exit_waiters = []
        if notify and status != "normal":  # R-PROC-5: a normal end notifies no one
            # Breadth first, in ascending pid order: every notice of this end is delivered
            # before the ends it causes deliver theirs (as LunaRuntime does).
            outer = self.cascade is None
            if outer:
                self.cascade = []
            try:
                for other_pid in sorted(links):
                    other = self.procs.get(other_pid)
                    if other is not None and other.status is None and other_pid not in self.doomed:
                        self.link_died(other, p.pid, links[other_pid])
                if outer:
                    while self.cascade:
                        q, reason = self.cascade.pop(0)
                        self.end(q, "link_died", reason)
            finally:
                if outer:
                    self.cascade = None

    def host_kill(self, req):
        """The host kills every pid in `to` (a pid or a list) at once: each ends killed, none
        from another's link (R-PROC-2, R-PROC-5)."""
        to = req.get("to")
        pids = [int(x) for x in to] if isinstance(to, list) else [int(to)]
        self.doomed = set(pid for pid in pids if self.alive(pid))
        try:
            for pid in pids:
                other = self.procs.get(pid)
                if other is not None and other.status is None:
                    self.end(other, "killed", "killed by the host")
        finally:
            self.doomed = set()

    def link_died(self, p, dead_pid, tag):
        if p.die_when_link_dies:
            if self.cascade is not None:
                self.cascade.append((p, "link %d died" % dead_pid))  # ends after this end's notices
            else:
                self.end(p, "link_died", "link %d died" % dead_pid)  # deaths cascade
        else:
            self.deliver(p, Message(self.token("m"), "link_died", tag))

    def handle_signals(self, p):
        """R-PROC-3: "no process" link notices take effect at the process's next waiting call,
        each under the die_when_link_dies flag in force at its link. Returns True when one ended
        the process."""
        signals, p.signals = p.signals, []
        for dead_pid, tag, die in signals:
            if die:
                self.end(p, "link_died", "link %d died" % dead_pid)
                return True
            self.deliver(p, Message(self.token("m"), "link_died", tag))
        return False

    # ---- delivery and waiting ------------------------------------------------------------
    def deliver(self, p, msg):
        if p.status is not None:
            return  # R-SEND-2
        p.mailbox.append(msg)
        w = p.waiter
        if w is None:
            return
        if w.op == "receive":
            if not tag_matches(msg, w.tags):
                return  # R-RECV-4: queued, not delivered
            code = 1 if msg.kind == "link_died" else 0
        else:
            if w.tags is not None and msg.tag != w.tags[0]:
                return
            code = 0  # R-RECV-8: even a LinkDied message gives 0
        p.mailbox.pop()
        self.complete(p, w, code, msg)

    def complete(self, p, w, code, msg):
        w.active = False
        p.waiter = None
        result = {"code": code}
        if msg is not None:
            p.scratch = msg  # R-RECV-6
            result["message"] = msg.describe()
        self.respond({"id": w.req_id, "result": result})
        self.drain(p)

    def park(self, p, req, op, tags, mark, timeout):
        deadline = None if timeout < 0 else time.monotonic() + timeout / 1000.0
        w = Waiter(req["id"], op, tags, mark, deadline)
        p.waiter = w
        if deadline is not None:
            def expire(p=p, w=w):
                if w.active and p.waiter is w:
                    self.complete(p, w, TIMEOUT_CODE, None)  # scratch left as it was
            self.add_timer(deadline, expire)
        return PARKED

    # ---- lunatic::message ----------------------------------------------------------------
    def data_scratch(self, p, op):
        """R-MSG-9/10: the call needs a data message in the scratch area."""
        if p.scratch is None or p.scratch.kind != "data":
            raise Trap("lunatic::message::" + op)
        return p.scratch

    def op_create_data(self, p, req):
        msg = Message(self.token("m"), "data", int(req["tag"]))  # capacity is a hint (R-MSG-4)
        p.scratch = msg  # R-MSG-3: replaces whatever was there
        return {"message": msg.token}

    def op_write_data(self, p, req):
        msg = self.data_scratch(p, "write_data")
        data = bytes.fromhex(req["hex"])
        msg.buf.extend(data)  # R-MSG-5: always at the end
        return len(data)

    def op_read_data(self, p, req):
        msg = self.data_scratch(p, "read_data")
        if msg.pos > len(msg.buf):
            raise Trap("lunatic::message::read_data")  # R-MSG-7
        n = min(int(req["len"]), len(msg.buf) - msg.pos)
        chunk = bytes(msg.buf[msg.pos:msg.pos + n])
        msg.pos += n  # R-MSG-6
        return {"count": n, "hex": chunk.hex()}

    def op_seek_data(self, p, req):
        # lunatic's index is a u64 sent as the i64 of the same bits: a negative one is past any end.
        self.data_scratch(p, "seek_data").pos = int(req["index"]) % (1 << 64)  # R-MSG-7
        return None

    def op_get_tag(self, p, req):
        if p.scratch is None:
            raise Trap("lunatic::message::get_tag")
        return p.scratch.tag  # R-MSG-10: works on LinkDied messages too

    def op_data_size(self, p, req):
        return len(self.data_scratch(p, "data_size").buf)  # R-MSG-8

    def op_new_resource(self, p, req):
        kind = req["kind"]
        if kind not in KINDS:
            raise BadRequest("unsupported resource kind %r" % (kind,))
        res = Resource(kind, self.token("r"))
        return {"id": p.insert(res), "token": res.token}

    def resource_op(self, op):
        if not isinstance(op, str):
            return None
        for verb in ("push_", "take_"):
            if op.startswith(verb) and op[len(verb):] in KINDS:
                kind = op[len(verb):]
                if verb == "push_":
                    return lambda p, req: self.push(p, kind, int(req["resource"]))
                return lambda p, req: self.take(p, kind, int(req["index"]))
        return None

    def push(self, p, kind, rid):
        reason = "lunatic::message::push_" + kind
        table = p.tables[kind]
        if kind in MOVED_KINDS:
            res = table.pop(rid, None)  # R-RES-4: removed before the scratch area is checked
            if res is None:
                raise Trap(reason)
            msg = self.data_scratch(p, "push_" + kind)
        else:
            res = table.get(rid)
            if res is None:
                raise Trap(reason)
            msg = self.data_scratch(p, "push_" + kind)
        msg.slots.append(res)  # R-RES-2: one list across kinds
        return len(msg.slots) - 1

    def take(self, p, kind, index):
        msg = self.data_scratch(p, "take_" + kind)
        if index < 0 or index >= len(msg.slots):
            raise Trap("lunatic::message::take_" + kind)  # R-RES-6
        res = msg.slots[index]
        if res is None or res.kind != kind:
            raise Trap("lunatic::message::take_" + kind)  # stays in its slot
        msg.slots[index] = None  # R-RES-5: other indexes unchanged
        return {"id": p.insert(res), "token": res.token}

    def op_send(self, p, req):
        msg = p.scratch
        if msg is None:
            raise Trap("lunatic::message::send::no_message")  # R-SEND-3
        p.scratch = None
        target = self.procs.get(int(req["to"]))
        if target is not None:
            self.deliver(target, msg)  # R-SEND-2: a missing pid drops it silently
        return 0

    def op_send_receive_skip_search(self, p, req):
        # R-PROC-3: a pending "no process" notice that ends the caller takes effect before the
        # call begins; the others once its request is sent (below).
        if any(die for _, _, die in p.signals) and self.handle_signals(p):
            raise Ended()
        msg = p.scratch
        if msg is None:
            raise Trap("lunatic::message::send_receive_skip_search")
        p.scratch = None
        tags = None if msg.tag == 0 else [msg.tag]
        # R-RECV-7: only messages arriving after the call began are eligible, the request
        # itself included when it is sent to the caller.
        mark = len(p.mailbox)
        target = self.procs.get(int(req["to"]))
        if target is not None:
            self.deliver(target, msg)
        # Pending "no process" notices take effect now, while the call waits (R-PROC-3): a
        # LinkDied message arrives after the call began, so it is the reply (R-RECV-8).
        if self.handle_signals(p):
            raise Ended()
        timeout = int(req["timeout_ms"])
        for i in range(mark, len(p.mailbox)):  # arrivals since the call began (a self-send)
            if tags is None or p.mailbox[i].tag == tags[0]:
                found = p.mailbox.pop(i)
                p.scratch = found
                return {"code": 0, "message": found.describe()}
        if timeout == 0:
            return {"code": TIMEOUT_CODE}
        return self.park(p, req, "send_receive_skip_search", tags, mark, timeout)

    def op_receive(self, p, req):
        tags = [int(t) for t in req.get("tags", [])]
        for i, msg in enumerate(p.mailbox):  # R-RECV-2: first match in queue order
            if tag_matches(msg, tags):
                del p.mailbox[i]
                p.scratch = msg  # R-RECV-6
                return {"code": 1 if msg.kind == "link_died" else 0, "message": msg.describe()}
        timeout = int(req["timeout_ms"])
        if timeout == 0:
            return {"code": TIMEOUT_CODE}  # R-RECV-5
        return self.park(p, req, "receive", tags, 0, timeout)

    # ---- lifecycle -----------------------------------------------------------------------
    def op_link(self, p, req):
        tag, to = int(req["tag"]), int(req["to"])
        other = self.procs.get(to)
        if other is None or other.status is not None:
            # R-PROC-3: link returns normally; the "no process" notice is a signal handled at
            # the caller's next waiting call, under the die_when_link_dies flag in force now
            # (a later die_when_link_dies is a signal queued behind it).
            p.signals.append((to, tag, p.die_when_link_dies))
            return None
        p.links[to] = tag
        other.links[p.pid] = tag
        return None

    def op_unlink(self, p, req):
        to = int(req["to"])
        p.links.pop(to, None)  # R-PROC-6
        other = self.procs.get(to)
        if other is not None:
            other.links.pop(p.pid, None)
        return None

    def op_kill(self, p, req):
        other = self.procs.get(int(req["to"]))
        if other is not None and other.status is None:  # R-PROC-2: a missing pid is ignored
            self.end(other, "killed", "killed by %d" % p.pid)
        return None

    def op_die_when_link_dies(self, p, req):
        p.die_when_link_dies = int(req["flag"]) != 0  # R-PROC-9
        return None

    def op_exit(self, p, req):
        self.respond({"id": req["id"], "result": None})
        self.end(p, "normal", "")
        return PARKED  # already answered

    def op_fail(self, p, req):
        self.respond({"id": req["id"], "result": None})
        self.end(p, "failure", str(req.get("reason", "trap")))
        return PARKED


PARKED = object()


def main():
    adapter = Adapter(sys.stdout)
    for line in sys.stdin:
        line = line.strip()
        if line:
            adapter.handle_line(line)
    log("stdin closed, exiting")


if __name__ == "__main__":
    main()
