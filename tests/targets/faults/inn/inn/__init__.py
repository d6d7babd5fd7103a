"""inn - a hotel booking API (plain WSGI), the service of the inn_* fault variants."""
