"""views.py - the knowledge base's JSON API.

    GET  /api/articles?tag=T           the articles of a topic, newest first, with their authors
    GET  /api/articles/<id>            one article
    POST /api/articles/<id>/feedback   {"helpful": true|false}
    GET  /debug/faults                 for bench/accuracy: the variant and its faulty requests

Planted fault (variant kb_nplus1): article_list's queryset does not join the authors, so article_json's
`article.author` loads each article's author with a query of its own: one query per article. Most topics
have 4-12 articles; the two big ones (billing, sso: ~7 % of topic pages) have 100, and their pages run
100 extra queries. With KB_FAULT=off the queryset selects the authors with the articles (one query)."""

import json
import os

from django.db.models import F
from django.http import Http404, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from .models import Article

PLANTED = os.environ.get("KB_FAULT", "on") != "off"
BIG_TAGS = {"billing", "sso"}
STATS = {"variant": "kb_nplus1", "requests": 0, "faulty_requests": 0, "spans": []}


def article_json(article, with_summary=False):
    out = {"id": article.id, "title": article.title, "tag": article.tag, "helpful": article.helpful,
           "updated": article.updated.isoformat(), "author": {"name": article.author.name, "team": article.author.team}}
    if with_summary:
        out["summary"] = article.summary
    return out


@require_GET
def article_list(request):
    tag = request.GET.get("tag", "")
    STATS["requests"] += 1
    STATS["faulty_requests"] += PLANTED and tag in BIG_TAGS
    articles = Article.objects.filter(tag=tag).order_by("-updated")
    if not PLANTED:
        articles = articles.select_related("author")
    out = []
    for article in articles:
        out.append(article_json(article))
    return JsonResponse({"tag": tag, "articles": out})


@require_GET
def article_detail(request, pk):
    STATS["requests"] += 1
    try:
        article = Article.objects.select_related("author").get(pk=pk)
    except Article.DoesNotExist:
        raise Http404("no article %d" % pk)
    return JsonResponse(article_json(article, with_summary=True))


@require_POST
def feedback(request, pk):
    STATS["requests"] += 1
    try:
        helpful = bool(json.loads(request.body or b"{}").get("helpful"))
    except (ValueError, AttributeError):
        return JsonResponse({"error": "JSON body wanted"}, status=400)
    if not Article.objects.filter(pk=pk).update(helpful=F("helpful") + (1 if helpful else -1)):
        raise Http404("no article %d" % pk)
    return JsonResponse({"id": pk}, status=201)


def faults(request):
    return JsonResponse(STATS)
