"""scoring.py - how well a candidate matches a job: required and nice-to-have skills, seniority, and
whether the headline names the job's title. Shown on every application and used to rank a job's pipeline."""


def skill_set(text):
    return {s.strip().lower() for s in text.split(",") if s.strip()}


def title_words(text):
    return {w.lower().strip(".,-") for w in text.split() if len(w) > 2}


def job_profile(job):
    return (skill_set(job["required"]), skill_set(job["nice"]), 2 * int(job["seniority"]), title_words(job["title"]))


def candidate_profile(cand):
    return skill_set(cand["skills"]), int(cand["years"]), title_words(cand["headline"])


def profile_score(jp, cp):
    (required, nice, years_wanted, title), (have, years, headline) = jp, cp
    score = 60.0 * len(have & required) / max(1, len(required))
    score += 20.0 * len(have & nice) / max(1, len(nice))
    score += max(0.0, 10.0 - abs(years - years_wanted))
    if title & headline:
        score += 10.0
    return round(score, 2)


def match_score(job, cand):
    """0..100 for a job row and a candidate row (sqlite3.Row or dict)."""
    return profile_score(job_profile(job), candidate_profile(cand))
