"""applications.py - applying, an application's page, recruiters' notes."""

import time

from . import db, pipeline
from .scoring import match_score


def apply(job_id, form):
    c = db.conn()
    j = pipeline.job(job_id)
    if j is None:
        return None
    with c:
        cid = c.execute("INSERT INTO candidates (name, email, country, skills, years, headline) VALUES (?,?,?,?,?,?)",
                        (form["name"], form["email"], form["country"], form["skills"], form["years"],
                         form["headline"])).lastrowid
        aid = c.execute("INSERT INTO applications (job_id, candidate_id, stage, created, score) VALUES (?,?,?,?,?)",
                        (job_id, cid, "new", time.time(), match_score(j, form))).lastrowid
    return {"application": aid, "candidate": cid, "job": job_id}


def show(app_id):
    c = db.conn()
    a = c.execute("SELECT * FROM applications WHERE id = ?", (app_id,)).fetchone()
    if a is None:
        return None
    cand = c.execute("SELECT * FROM candidates WHERE id = ?", (a["candidate_id"],)).fetchone()
    j = pipeline.job(a["job_id"])
    notes = c.execute("SELECT author, body, created FROM notes WHERE application_id = ? ORDER BY id DESC LIMIT 10",
                      (app_id,)).fetchall()
    return {"application": app_id, "job": j["title"], "stage": a["stage"], "candidate": cand["name"],
            "country": cand["country"], "match": match_score(j, cand), "notes": [dict(n) for n in notes]}


def add_note(app_id, author, body):
    c = db.conn()
    with c:
        if c.execute("SELECT 1 FROM applications WHERE id = ?", (app_id,)).fetchone() is None:
            return None
        return c.execute("INSERT INTO notes (application_id, author, body, created) VALUES (?,?,?,?)",
                         (app_id, author, body, time.time())).lastrowid


def move(app_id, stage):
    c = db.conn()
    with c:
        return c.execute("UPDATE applications SET stage = ? WHERE id = ? AND stage != 'rejected'",
                         (stage, app_id)).rowcount
