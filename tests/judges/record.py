"""Record the Node judges' answers for the Netlify and Vercel files of the import corpus.

    python -m tests.judges.record      (needs node; run `npm ci` in tests/judges first)

For each file it draws the requests (tests/judges/corpus.py), asks ``judge.mjs`` and writes
``FILE.answers.json`` beside it: the requests and the answers, which the corpus test reads,
so that CI needs no node. Run it again after changing a corpus file or the requests drawn.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from tests.judges.corpus import answers_path, files, requests_for

HERE = Path(__file__).resolve().parent


def record(fmt: str, path: Path) -> None:
    """Ask the judge about one file's requests and store its answers."""
    requests = requests_for(fmt, path)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump([[r.method, r.url] for r in requests], handle)
    done = subprocess.run(
        ["node", str(HERE / "judge.mjs"), fmt, str(path), handle.name],
        capture_output=True, text=True, check=True, cwd=HERE, timeout=300,
    )  # fmt: skip
    Path(handle.name).unlink()
    result = json.loads(done.stdout)
    stored = {
        "judge": "@netlify/redirect-parser + @cloudflare/pages-shared"
        if fmt == "netlify"
        else "@vercel/routing-utils",
        "requests": [r.as_json() for r in requests],
        "answers": result["answers"],
        "judged": result["judged"],
    }
    # One request and its answer a line: a diff shows what changed.
    lines = [f'"judge": {json.dumps(stored["judge"])}', f'"judged": {json.dumps(stored["judged"])}']
    pairs = ",\n  ".join(
        json.dumps([request, answer])
        for request, answer in zip(stored["requests"], stored["answers"], strict=True)
    )
    text = "{\n " + ",\n ".join(lines) + ',\n "pairs": [\n  ' + pairs + "\n ]\n}\n"
    answers_path(path).write_text(text, encoding="utf-8")


def main() -> None:
    """Record every Netlify and Vercel file."""
    for fmt in ("netlify", "vercel"):
        for path in files(fmt):
            record(fmt, path)
            print(f"recorded {answers_path(path).name}")


if __name__ == "__main__":
    main()
