#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Drive a QEMU process (qemu-storage-daemon, say) over QMP, step by step.

Usage: qmp.py [-t SECONDS] [-v] SOCKET STEP...

Connects to the QMP server on the unix socket SOCKET (waiting for it to
appear), negotiates capabilities, then runs each STEP in order:

  NAME [ARGS]        execute the command NAME; ARGS is a JSON object, or
                     KEY=VALUE words (VALUE is taken as JSON when it parses,
                     as a string otherwise); prints the command's "return"
                     as one line of JSON
  @EVENT [KEY=VALUE...]
                     wait for the event EVENT whose "data" has these values
                     (an event received earlier, and not yet waited for,
                     counts); prints the event as one line of JSON

Every step must finish within SECONDS (default 60). A command that fails,
a step that times out, the connection closing, or a job that fails while
waiting (BLOCK_JOB_ERROR, BLOCK_JOB_COMPLETED with an error, a job going to
"aborting") ends the run with a message saying so and exit status 1; bad
usage exits 2. -v logs every message to stderr.

Example, a full mirror of node "src" to node "dst":
  qmp.py SOCK 'blockdev-mirror job-id=m device=src target=dst sync=full' \\
      '@BLOCK_JOB_READY device=m' 'job-complete id=m' \\
      '@BLOCK_JOB_COMPLETED device=m' quit
"""

import json
import os
import select
import socket
import sys
import time


class QMPError(Exception):
    pass


def _matches(event, name, want):
    """EVENT is NAME, with data[KEY] equal to VALUE (as text or as JSON)."""
    if event.get("event") != name:
        return False
    data = event.get("data", {})
    return all(k in data and (data[k] == v or json.dumps(data[k]) == v)
               for k, v in want.items())


def _job_failure(event):
    """A message if EVENT says a job failed, else None."""
    name, data = event.get("event"), event.get("data", {})
    job = data.get("device", data.get("id", "?"))
    if name == "BLOCK_JOB_ERROR":
        return "job %s: I/O error on %s (%s)" % (
            job, data.get("operation"), data.get("action"))
    if name == "BLOCK_JOB_COMPLETED" and "error" in data:
        return "job %s failed: %s" % (job, data["error"])
    if name == "JOB_STATUS_CHANGE" and data.get("status") == "aborting":
        return "job %s is aborting" % job
    return None


class QMP:
    def __init__(self, path, timeout, verbose=False):
        self.timeout = timeout
        self.verbose = verbose
        self.buf = b""
        self.events = []
        self.seen = []
        self.next_id = 0
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError as e:
                self.sock.close()
                if time.monotonic() >= deadline:
                    raise QMPError("cannot connect to %s within %g s: %s" %
                                   (path, timeout, e.strerror)) from None
                time.sleep(0.1)
        greeting = self._recv(deadline, "the QMP greeting")
        if "QMP" not in greeting:
            raise QMPError("%s: not a QMP greeting: %s" % (path, greeting))
        self.command("qmp_capabilities")

    def _log(self, direction, msg):
        if self.verbose:
            print("qmp %s %s" % (direction, json.dumps(msg)), file=sys.stderr)

    def _recv(self, deadline, what):
        """The next message; events are returned like any other."""
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QMPError("timed out after %g s waiting for %s%s" %
                               (self.timeout, what, self._seen_note()))
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                continue
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QMPError("connection closed while waiting for %s%s" %
                               (what, self._seen_note()))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        try:
            msg = json.loads(line)
        except ValueError:
            raise QMPError("not JSON from the server: %r" % line[:200])
        self._log("<-", msg)
        if "event" in msg:
            self.seen.append(msg["event"])
        return msg

    def _seen_note(self):
        if not self.seen:
            return " (no event received)"
        return " (events received: %s)" % ", ".join(self.seen[-10:])

    def command(self, name, args=None):
        self.next_id += 1
        msg = {"execute": name, "id": self.next_id}
        if args:
            msg["arguments"] = args
        self._log("->", msg)
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._recv(deadline, "the reply to " + name)
            if "event" in reply:
                self.events.append(reply)
                continue
            if reply.get("id") != self.next_id:
                continue
            if "error" in reply:
                err = reply["error"]
                raise QMPError("%s: %s: %s" % (name, err.get("class"),
                                               err.get("desc")))
            return reply.get("return")

    def wait_event(self, name, want):
        what = name + "".join(" %s=%s" % kv for kv in want.items())
        deadline = time.monotonic() + self.timeout
        while True:
            while self.events:
                ev = self.events.pop(0)
                # A failed job fails the wait, even by the event awaited.
                failure = _job_failure(ev)
                if failure:
                    raise QMPError("while waiting for %s: %s" %
                                   (what, failure))
                if _matches(ev, name, want):
                    return ev
            self.events.append(self._recv(deadline, what))


def _value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_args(words):
    """KEY=VALUE words, or one JSON object, as a dict."""
    if not words:
        return {}
    if words[0].startswith("{"):
        args = json.loads(" ".join(words))
        if not isinstance(args, dict):
            raise ValueError("arguments must be a JSON object")
        return args
    args = {}
    for w in words:
        key, eq, val = w.partition("=")
        if not eq or not key:
            raise ValueError("%r is not KEY=VALUE" % w)
        args[key] = _value(val)
    return args


def usage(msg=None):
    if msg:
        print("qmp.py: %s" % msg, file=sys.stderr)
    print(__doc__.split("\n\n")[1] if msg else __doc__, file=sys.stderr)
    sys.exit(2)


def main(argv):
    timeout, verbose = 60.0, False
    while argv and argv[0].startswith("-") and argv[0] != "--":
        opt = argv.pop(0)
        if opt == "-t" and argv:
            try:
                timeout = float(argv.pop(0))
            except ValueError:
                usage("-t needs a number of seconds")
        elif opt == "-v":
            verbose = True
        else:
            usage("unknown option %s" % opt)
    if argv and argv[0] == "--":
        argv.pop(0)
    if len(argv) < 2:
        usage()
    path, steps = argv[0], []
    for step in argv[1:]:
        words = step.split()
        if not words:
            usage("empty step")
        try:
            if words[0].startswith("@"):
                want = {}
                for w in words[1:]:
                    key, eq, val = w.partition("=")
                    if not eq or not key:
                        raise ValueError("%r is not KEY=VALUE" % w)
                    want[key] = val
                steps.append(("event", words[0][1:], want))
            else:
                steps.append(("command", words[0], parse_args(words[1:])))
        except ValueError as e:
            usage("step %r: %s" % (step, e))
    try:
        qmp = QMP(path, timeout, verbose)
        for kind, name, args in steps:
            if kind == "command":
                result = qmp.command(name, args)
            else:
                result = qmp.wait_event(name, args)
            print(json.dumps(result), flush=True)
    except QMPError as e:
        print("qmp.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
