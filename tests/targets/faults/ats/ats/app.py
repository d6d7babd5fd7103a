"""app.py - the applicant tracking API (Flask); what gunicorn serves is `ats.app:app`. The worker creates
and seeds the database, starts the retention sweep and loadctl_agent (CPU and wall profiles) on
ATS_PPROF_ADDR.

    GET  /api/jobs/<id>/pipeline?sort=recent|match&page=N   a page of the job's open applications
    POST /api/jobs/<id>/applications       the careers site's form: {"name", "email", "phone", "country", ...}
    GET  /api/applications/<id>            an application with its match score and latest notes
    POST /api/applications/<id>/notes      {"author", "body"}
    PUT  /api/candidates/<id>/resume       {"filename", "content_base64"}
    GET  /debug/faults                     for bench/accuracy: the variant, its spans and faulty requests"""

import atexit
import base64
import binascii
import os
import shutil
import tempfile

from flask import Flask, abort, jsonify, request

import loadctl_agent

from . import applications, config, db, docstore, forms, pipeline, resumes, retention

app = Flask(__name__)


@app.errorhandler(forms.FormError)
def bad_form(e):
    return jsonify({"error": str(e)}), 422


@app.get("/api/jobs/<int:job_id>/pipeline")
def job_pipeline(job_id):
    job_id %= config.JOBS
    sort, page = request.args.get("sort", "recent"), max(0, min(40, request.args.get("page", 0, type=int)))
    config.count(config.planted("ats_pipeline") and sort == "match" and job_id % config.BIG_JOB == 3)
    return jsonify({"job": job_id, "sort": sort, "page": page, "applications": pipeline.pipeline(job_id, sort, page)})


@app.post("/api/jobs/<int:job_id>/applications")
def apply(job_id):
    body = request.get_json(force=True)
    config.count(config.planted("ats_apply") and not str(body.get("name", "")).isascii())
    made = applications.apply(job_id % config.JOBS, forms.application(body))
    return jsonify(made), 201


@app.get("/api/applications/<int:app_id>")
def show(app_id):
    config.count()
    a = applications.show(app_id)
    if a is None:
        abort(404)
    return jsonify(a)


@app.post("/api/applications/<int:app_id>/notes")
def note(app_id):
    body = request.get_json(force=True)
    config.count()
    nid = applications.add_note(app_id, str(body.get("author", "recruiter"))[:40], str(body.get("body", ""))[:2000])
    if nid is None:
        abort(404)
    return jsonify({"note": nid}), 201


@app.put("/api/candidates/<int:cand_id>/resume")
def resume(cand_id):
    body = request.get_json(force=True)
    try:
        data = base64.b64decode(body.get("content_base64", ""), validate=True)
    except (binascii.Error, ValueError):
        abort(400)
    kept = resumes.store(cand_id, str(body.get("filename", "resume.pdf"))[:100], data)
    if kept is None:
        abort(404)
    config.count(config.planted("ats_resume") and kept["sealed"])
    return jsonify(kept)


@app.get("/debug/faults")
def faults():
    return jsonify(config.STATS)


_dir = tempfile.mkdtemp(prefix="ats-")
atexit.register(shutil.rmtree, _dir, True)
db.open_db(os.path.join(_dir, "ats.db"))
docstore.start()
retention.start()
loadctl_agent.start(listen=config.PPROF_ADDR)
loadctl_agent.flask(app)
