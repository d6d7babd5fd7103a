"""desk - a helpdesk API (Flask under gunicorn gthread) for loadctl's fault corpus: tests/targets/faults/desk_*."""
