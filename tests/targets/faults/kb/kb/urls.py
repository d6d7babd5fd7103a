from django.urls import path

from . import views

urlpatterns = [
    path("api/articles", views.article_list),
    path("api/articles/<int:pk>", views.article_detail),
    path("api/articles/<int:pk>/feedback", views.feedback),
    path("debug/faults", views.faults),
]
