"""kb - a help-centre knowledge base (Django under gunicorn gthread) for loadctl's fault corpus: tests/targets/faults/kb_nplus1."""
