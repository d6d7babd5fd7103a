"""pipeline.py - a job's applications as the recruiter's pipeline view pages them: newest first, or best
match first."""

from . import config, db
from .scoring import match_score

PAGE = 25
COLUMNS = ("SELECT a.id, a.stage, a.created, a.score, c.id AS candidate_id, c.name, c.country, c.skills, "
           "c.years, c.headline FROM applications a JOIN candidates c ON c.id = a.candidate_id ")


def job(job_id):
    return db.conn().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()


def row_json(row, score):
    return {"application": row["id"], "candidate": row["candidate_id"], "name": row["name"],
            "country": row["country"], "stage": row["stage"], "score": score}


def recent_page(job_id, page):
    rows = db.conn().execute(COLUMNS + "WHERE a.job_id = ? AND a.stage != 'rejected' ORDER BY a.created DESC "
                             "LIMIT ? OFFSET ?", (job_id, PAGE, page * PAGE)).fetchall()
    return [row_json(r, r["score"]) for r in rows]


def ranked_candidates(j, page):
    """Best match first: every open application of the job scored against it, sorted, one page cut out."""
    rows = db.conn().execute(COLUMNS + "WHERE a.job_id = ? AND a.stage != 'rejected'", (j["id"],)).fetchall()
    scored = sorted(((match_score(j, r), r) for r in rows), key=lambda p: (-p[0], p[1]["id"]))
    return [row_json(r, s) for s, r in scored[page * PAGE:(page + 1) * PAGE]]


def stored_rank_page(job_id, page):
    """The score stored when the application was made, read in its index's order."""
    rows = db.conn().execute(COLUMNS + "WHERE a.job_id = ? AND a.stage != 'rejected' ORDER BY a.score DESC, "
                             "a.id LIMIT ? OFFSET ?", (job_id, PAGE, page * PAGE)).fetchall()
    return [row_json(r, r["score"]) for r in rows]


def pipeline(job_id, sort, page):
    j = job(job_id)
    if sort != "match":
        return recent_page(job_id, page)
    if config.planted("ats_pipeline"):
        return ranked_candidates(j, page)
    return stored_rank_page(job_id, page)
