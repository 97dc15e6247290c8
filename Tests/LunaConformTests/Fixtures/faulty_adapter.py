# The Python adapter with one deliberate mistake, named by the first argument; used to check
# that replay catches the mistake with the right category and rule.
import os, sys, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "adapters", "python"))
import luna_adapter as L

FAULT = sys.argv[1] if len(sys.argv) > 1 else ""
print("faulty adapter: " + FAULT, file=sys.stderr, flush=True)


BaseProc = L.Proc


class Proc(BaseProc):
    def insert(self, resource):
        table = self.tables[resource.kind]
        if FAULT == "ids-from-1":  # R-RES-1: ids start at 0
            rid = self.next_id[resource.kind] + 1
            self.next_id[resource.kind] += 1
        elif FAULT == "reuse-moved-id":  # R-RES-1: ids are never reused
            rid = 0
            while rid in table:
                rid += 1
        else:
            return BaseProc.insert(self, resource)
        table[rid] = resource
        return rid


L.Proc = Proc


class Adapter(L.Adapter):
    hellos = 0
    resets = 0

    def dispatch(self, req):
        op = req.get("op")
        if op == "reset":
            Adapter.resets += 1
            # Once per marker file (the second argument): a replacement adapter behaves.
            if FAULT == "stray-at-second-reset" and Adapter.resets == 2 and not os.path.exists(sys.argv[2]):
                open(sys.argv[2], "w").close()
                self.respond({"id": 10 ** 12, "result": None})
        if FAULT == "hang-after-park" and getattr(self, "hung", False):
            return
        if FAULT == "overlong-line" and op not in ("hello", "reset"):
            self.out.write('{"id":%d,"result":"' % req["id"] + "x" * (50 << 20) + '"}\n')
            self.out.flush()
            return
        L.Adapter.dispatch(self, req)
        if FAULT == "duplicate-answer" and op == "create_data":
            self.respond({"id": req["id"], "result": {"message": "again"}})

    def park(self, p, req, op, tags, mark, timeout):
        if FAULT == "hang-after-park":
            self.hung = True
            return L.PARKED
        if FAULT == "late-timeout" and timeout > 0:  # R-RECV-5: fires at 3x its time plus 0.3 s
            timeout = timeout * 3 + 300
        return L.Adapter.park(self, p, req, op, tags, mark, timeout)

    def deliver(self, p, msg):
        if FAULT == "fifo-break" and p.status is None and p.mailbox and p.waiter is None and msg.kind == "data":
            p.mailbox.insert(len(p.mailbox) - 1, msg)  # R-SEND-4: overtakes the last queued one
            return
        w = p.waiter
        if FAULT == "skip-search-ignores-link-died" and w is not None and w.op != "receive" and msg.kind == "link_died":
            p.mailbox.append(msg)  # R-RECV-8: the waiting skip-search does not take it
            return
        L.Adapter.deliver(self, p, msg)

    def link_died(self, p, dead_pid, tag):
        if FAULT == "link-tag-plus-one":  # R-PROC-4/5: the notice carries the link's tag
            tag += 1
        L.Adapter.link_died(self, p, dead_pid, tag)

    def op_receive(self, p, req):
        tags = [int(t) for t in req.get("tags", [])]
        if FAULT == "newest-match" and tags:  # R-RECV-2: takes the last match, not the first
            for i in range(len(p.mailbox) - 1, -1, -1):
                msg = p.mailbox[i]
                if L.tag_matches(msg, tags):
                    del p.mailbox[i]
                    p.scratch = msg
                    return {"code": 1 if msg.kind == "link_died" else 0, "message": msg.describe()}
        return L.Adapter.op_receive(self, p, req)

    def op_send(self, p, req):
        result = L.Adapter.op_send(self, p, req)
        if FAULT == "send-missing-returns-1" and self.procs.get(int(req["to"])) is None:
            return 1  # R-SEND-2: returns 0
        return result

    def push(self, p, kind, rid):
        if FAULT == "module-push-moves" and kind == "module":  # R-RES-3: modules are shared
            res = p.tables[kind].pop(rid, None)
            if res is None:
                raise L.Trap("lunatic::message::push_module")
            msg = self.data_scratch(p, "push_module")
            msg.slots.append(res)
            return len(msg.slots) - 1
        return L.Adapter.push(self, p, kind, rid)


def main():
    if FAULT == "ignore-eof":  # writes its pid to the file named by the second argument
        with open(sys.argv[2], "w") as f:
            f.write(str(os.getpid()))
    adapter = Adapter(sys.stdout)
    for line in sys.stdin:
        line = line.strip()
        if line:
            adapter.handle_line(line)
    if FAULT == "ignore-eof":
        while True:
            time.sleep(1)


main()
