"""app.py - the helpdesk API (Flask): tickets, comments, attachments, bulk actions; what gunicorn serves
is `desk.app:app`. The worker opens the ticket store, starts the antivirus daemon and the scanner threads,
and loadctl_agent (CPU and wall profiles) on DESK_PPROF_ADDR.

    GET  /api/tickets/<id>                 a ticket and its latest comments
    POST /api/tickets                      {"workspace", "subject", "body"}: routed by rules.route
    POST /api/tickets/<id>/comments        {"author", "body"}
    POST /api/tickets/<id>/attachments     {"filename", "content_base64"}: scanned before it is kept
    POST /api/tickets/bulk                 {"queue", "status"}: every ticket of a queue in another status
    GET  /debug/faults                     for bench/accuracy: the variant and its faulty requests"""

import atexit
import base64
import ctypes
import os
import shutil
import signal
import subprocess
import tempfile

from flask import Flask, abort, jsonify, request

import loadctl_agent

from . import config, rules, scan, store

app = Flask(__name__)
STATS = {"variant": config.VARIANT, "requests": 0, "faulty_requests": 0, "spans": []}


def start_antivirus():
    """The antivirus daemon stand-in: faultsvc's dependency process, killed when this worker dies."""
    prctl = ctypes.CDLL(None).prctl
    proc = subprocess.Popen([config.ANTIVIRUS_CMD, "--role=dependency", "--addr=127.0.0.1:0",
                             "--duration=" + config.DURATION], stdout=subprocess.PIPE,
                            preexec_fn=lambda: prctl(1, signal.SIGKILL))
    return "http://%s" % proc.stdout.readline().decode().strip()


def count(faulty=False):
    STATS["requests"] += 1
    STATS["faulty_requests"] += bool(faulty)


@app.get("/api/tickets/<int:tid>")
def get_ticket(tid):
    count()
    t = store.ticket(tid)
    if t is None:
        abort(404)
    return jsonify(t)


@app.post("/api/tickets")
def create_ticket():
    body = request.get_json(force=True)
    ws = int(body.get("workspace", 0)) % 200
    count(config.planted("desk_rules") and ws in rules.CUSTOM)
    queue = rules.route(ws, body.get("subject", ""), body.get("body", ""))
    return jsonify({"id": store.create(ws, queue, body.get("subject", ""), body.get("body", "")), "queue": queue}), 201


@app.post("/api/tickets/<int:tid>/comments")
def comment(tid):
    body = request.get_json(force=True)
    count()
    return jsonify({"id": store.add_comment(tid, body.get("author", "agent"), body.get("body", ""))}), 201


@app.post("/api/tickets/<int:tid>/attachments")
def attach(tid):
    body = request.get_json(force=True)
    name = str(body.get("filename", "file.bin"))
    try:
        data = base64.b64decode(body.get("content_base64", ""))
    except ValueError:
        abort(400)
    count(config.planted("desk_scan") and name.endswith(".zip"))
    verdict = scan.scan(name, data)
    return jsonify({"ticket": tid, "name": name, "verdict": verdict}), 201 if verdict == "clean" else 422


@app.post("/api/tickets/bulk")
def bulk():
    body = request.get_json(force=True)
    count(config.planted("desk_bulk"))
    status = body.get("status", "resolved")
    ids = store.queue_tickets(body.get("queue", "general"), "open" if status == "resolved" else "resolved",
                              int(body.get("limit", 300)))
    return jsonify({"updated": store.bulk_set_status(ids, status, body.get("actor", "bulk"))})


@app.get("/debug/faults")
def faults():
    return jsonify(STATS)


_dir = tempfile.mkdtemp(prefix="desk-")
atexit.register(shutil.rmtree, _dir, True)
store.open_db(os.path.join(_dir, "tickets.db"))
rules.warm()
scan.start(start_antivirus())
loadctl_agent.start(listen=config.PPROF_ADDR)
loadctl_agent.flask(app)
