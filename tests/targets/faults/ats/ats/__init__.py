"""ats - an applicant tracking API (Flask): jobs, candidates, applications, recruiters' notes, résumés."""
