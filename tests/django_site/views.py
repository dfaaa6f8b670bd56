"""The app behind the middleware: it echoes what reached it, like the ASGI/WSGI echo apps."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from tests.cases import APP_BODY


@csrf_exempt
def echo(request: HttpRequest) -> HttpResponse:
    """Answer 200 with ``app``; ``X-Echo`` holds the method, path, query and body received."""
    echoed = {
        "method": request.method,
        "path": request.path,
        "query": request.META.get("QUERY_STRING", ""),
        "body": request.body.decode("latin-1"),
    }
    response = HttpResponse(APP_BODY, content_type="text/plain")
    response["X-Echo"] = json.dumps(echoed)
    return response
