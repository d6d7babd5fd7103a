"""models.py - authors and their help-centre articles, tagged by topic."""

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=80)
    team = models.CharField(max_length=40)


class Article(models.Model):
    title = models.CharField(max_length=200)
    tag = models.CharField(max_length=40, db_index=True)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="articles")
    summary = models.TextField()
    helpful = models.IntegerField(default=0)
    updated = models.DateTimeField()
