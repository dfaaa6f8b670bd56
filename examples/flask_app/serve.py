"""Serve the Flask example under gunicorn on http://127.0.0.1:8000.

    .venv/bin/python examples/flask_app/serve.py [--port 8000] [--host 127.0.0.1]

``PORT`` and ``HOST`` in the environment set the defaults. ``MAINTENANCE=true`` and
``FORCE_HTTPS=true`` switch those rules on (see redirects.yaml).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def try_these(base: str) -> str:
    """A few curl commands that show what the rules do."""
    return f"""
redirectware Flask example on {base} (gunicorn)
rules: {HERE / "redirects.yaml"} (reloaded when edited)

Try:
  # a GET to the old API: 301 to /api/v2/orders
  curl -i {base}/api/v1/orders
  # a PUT: 308, so the client must re-send the same PUT with its body
  curl -i -X PUT {base}/api/v1/orders/7 -H 'Content-Type: application/json' --data '{{"qty":3}}'
  # curl follows the 308: /api/v2/orders/7 answers with the body it received
  curl -sS -L -X PUT {base}/api/v1/orders/7 -H 'Content-Type: application/json' --data '{{"qty":3}}'
  # a legacy URL from legacy-urls.csv: 301 to /products/widget
  curl -i '{base}/products.php?id=1'
  # maintenance: every URL but /healthz answers 503 while this file exists
  touch {HERE / "maintenance.flag"}
Open {base}/ in a browser for a form whose action moved.
"""


def main(argv: list[str] | None = None) -> None:
    """Parse the options, print the commands to try, and become gunicorn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "2")))
    args = parser.parse_args(argv)
    print(try_these(f"http://{args.host}:{args.port}"), flush=True)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--chdir",
        str(HERE),  # the example imports as the module "app"
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "app:app",
    ]
    # exec, not a child process: Ctrl+C and signals from a supervisor reach gunicorn itself.
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
