"""A Django view that serves redirectware's counters to Prometheus, every worker's at once.

::

    # urls.py
    from redirectware.django import metrics_view

    urlpatterns = [..., path("metrics", metrics_view)]

Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR`` before it starts: the
view then adds up the counts of every worker (:func:`redirectware.metrics.exposition`).
Needs ``pip install 'redirectware[prometheus]'``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The counters in Prometheus' text format; any method, no arguments."""
    from redirectware.metrics import CONTENT_TYPE, exposition

    return HttpResponse(exposition(), content_type=CONTENT_TYPE)
