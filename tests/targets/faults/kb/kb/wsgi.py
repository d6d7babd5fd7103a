"""wsgi.py - what gunicorn serves (`kb.wsgi:application`): Django configured in code, a fresh sqlite
database in a temporary folder with the help centre's articles, and loadctl_agent (CPU + wall profiles,
loadctl_agent.django.Middleware) on KB_PPROF_ADDR."""

import atexit
import datetime
import os
import random
import shutil
import tempfile

from django.conf import settings

DB_DIR = tempfile.mkdtemp(prefix="kb-")
atexit.register(shutil.rmtree, DB_DIR, True)
settings.configure(
    DEBUG=False, SECRET_KEY="kb-corpus-not-secret", ALLOWED_HOSTS=["*"], USE_TZ=True,
    ROOT_URLCONF="kb.urls", INSTALLED_APPS=["kb"],
    MIDDLEWARE=["loadctl_agent.django.Middleware"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(DB_DIR, "kb.db")}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)

import django  # noqa: E402 - after settings

django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, transaction  # noqa: E402

import loadctl_agent  # noqa: E402

from .models import Article, Author  # noqa: E402

TAGS = ["billing", "sso", "login", "shipping", "returns", "api", "mobile", "exports", "imports", "backup",
        "invoices", "vat", "2fa", "okta", "saml", "webhooks", "rate-limits", "android", "ios", "storage",
        "quota", "outages", "status", "privacy", "gdpr", "accounts", "teams", "roles", "audit", "search"]


def seed():
    with connection.schema_editor() as editor:
        editor.create_model(Author)
        editor.create_model(Article)
    rnd = random.Random(11)
    now = datetime.datetime.now(datetime.timezone.utc)
    with transaction.atomic():
        Author.objects.bulk_create(Author(name="writer %d" % i, team=rnd.choice(["support", "docs", "eng"])) for i in range(60))
        authors = list(Author.objects.all())
        Article.objects.bulk_create(
            Article(title="%s: how to %d" % (tag, i), tag=tag, author=rnd.choice(authors), summary="Steps %d." % i,
                    updated=now - datetime.timedelta(hours=rnd.randrange(5000)))
            for tag in TAGS for i in range(100 if tag in ("billing", "sso") else rnd.randint(4, 12)))


seed()
application = get_wsgi_application()
loadctl_agent.start(listen=os.environ.get("KB_PPROF_ADDR", "127.0.0.1:6064"))
