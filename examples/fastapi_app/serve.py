"""Serve the FastAPI example under uvicorn on http://127.0.0.1:8000.

    .venv/bin/python examples/fastapi_app/serve.py [--port 8000] [--host 127.0.0.1]

``PORT`` and ``HOST`` in the environment set the defaults. ``MAINTENANCE=true`` and
``FORCE_HTTPS=true`` switch those rules on (see redirects.yaml).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

HERE = Path(__file__).resolve().parent


def try_these(base: str) -> str:
    """A few curl commands that show what the rules do."""
    return f"""
redirectware FastAPI example on {base}
rules: {HERE / "redirects.yaml"} (reloaded when edited)

Try:
  # a GET to the old API: 301 to /api/v2/orders
  curl -i {base}/api/v1/orders
  # a POST: 308, so the client must re-send the same POST with its body
  curl -i -X POST {base}/api/v1/orders -H 'Content-Type: application/json' --data '{{"qty":3}}'
  # curl follows the 308: /api/v2/orders answers with the body it received
  curl -sS -L -X POST {base}/api/v1/orders -H 'Content-Type: application/json' --data '{{"qty":3}}'
  # a legacy URL from legacy-urls.csv: 301 to /about
  curl -i {base}/about-us.html
  # maintenance: every URL but /healthz answers 503 while this file exists
  touch {HERE / "maintenance.flag"}
Open {base}/ in a browser for a form whose action moved.
"""


def main(argv: list[str] | None = None) -> None:
    """Parse the options, print the commands to try, and run uvicorn until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args(argv)
    print(try_these(f"http://{args.host}:{args.port}"), flush=True)
    # app_dir: the example imports as the module "app", wherever this script is started from.
    # lifespan="on": Starlette builds its middleware at lifespan start-up, so an invalid
    # redirects.yaml stops the server there; "auto" would serve 500s instead.
    uvicorn.run("app:app", host=args.host, port=args.port, app_dir=str(HERE), lifespan="on")


if __name__ == "__main__":
    main()
