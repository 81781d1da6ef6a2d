"""How long from a 10 MiB upload to its sealed rows, and how much memory?

Each case runs in a fresh process (peak RSS only ever grows): a requester
sends a new request through Flask's test client, as a multipart form with one
file; the figure is the time until the request and its sealed file are
committed, with the metadata removal in the bubblewrap sandbox included.
Beside it, in the same run: the same request without a file (the baseline),
and sealing the same bytes with no cleaning (crypto and SQLCipher alone).
Peak RSS is Haven's process, and separately the largest sandboxed remover.

    .venv/bin/python bench/attachments_bench.py

Needs Pillow (the [test] extra) to draw the JPEG, and mat2, bubblewrap and
exiftool (Debian) as the tests do.
"""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nacl.utils  # noqa: E402
from nacl.public import PrivateKey  # noqa: E402

from crypto.attachment import Attachment  # noqa: E402
from crypto.requester import RequesterKeys  # noqa: E402
from onion_app import create_app  # noqa: E402
from onion_app.config import Config  # noqa: E402
from onion_app.domain import sealing  # noqa: E402
from onion_app.domain.matching import Policy  # noqa: E402
from onion_app.store import Database  # noqa: E402
from onion_app.store import requests as rows  # noqa: E402
from onion_app.web import auth  # noqa: E402

# bench/run_all.py runs this with the suite.
IN_BENCH_SUITE = True

TARGET = 10 * 1024 * 1024 - 64 * 1024  # just under the 10 MiB default limit
CASES = ("text only", "10 MiB PDF", "10 MiB JPEG")


def make_file(case: str) -> tuple[str, bytes]:
    sys.path.insert(0, str(ROOT / "tests"))
    import attachment_files  # the tests' fixture maker (Pillow, exiftool)

    if case == "10 MiB PDF":
        data = attachment_files.pdf(padding=TARGET - 2000)
        return "summons.pdf", data
    # Noise barely compresses, so the size follows the pixel count: two
    # corrections from a first guess land just under the limit.
    side = 3000
    for _ in range(3):
        data = attachment_files.jpeg(side, side, noise=True, quality=92)
        side = int(side * (TARGET / len(data)) ** 0.5)
    while len(data) > TARGET:
        side -= 16
        data = attachment_files.jpeg(side, side, noise=True, quality=92)
    return "camera.jpg", data


def one(name: str, data: bytes) -> dict[str, float]:
    """Sends one request with this file (none when ``data`` is empty) in this
    process. :returns: its figures"""
    with tempfile.TemporaryDirectory() as folder:
        config = Config.from_env({"HAVEN_INSTANCE": folder, "HAVEN_KDF_OPSLIMIT": "1",
                                  "HAVEN_KDF_MEMLIMIT_KIB": "8", "HAVEN_DB_KDF_OPSLIMIT": "1",
                                  "HAVEN_DB_KDF_MEMLIMIT_KIB": "8"}
                                 ).with_changes(csrf_enabled=False)
        Database(config).init()
        keys = RequesterKeys(lookup_id=b"L" * 32, private_key=PrivateKey.generate(),
                             master_secret=nacl.utils.random(32))
        conn = Database(config).open()
        requester_id = rows.create_requester(conn, keys.lookup_id, bytes(keys.public_key))
        conn.commit()
        app = create_app("public", config)
        client = app.test_client()
        with app.test_request_context():
            sid = auth.store().create("requester", requester_id, None, requester_keys=keys,
                                      account_ref=bytes(keys.public_key).hex())
        with client.session_transaction() as cookie:
            cookie["sid"] = sid
        form: dict[str, object] = {
            "skills": ["legal"], "languages": ["fa"], "region": "mena", "urgency": "urgent",
            "title": "A summons", "story": "I received this.", "help": "What does it mean?"}
        if data:
            form["files"] = [(io.BytesIO(data), name)]
        start = time.perf_counter()
        response = client.post("/requests/new", data=form, content_type="multipart/form-data")
        upload = time.perf_counter() - start
        if response.status_code != 302:
            raise SystemExit(f"{name}: the upload answered {response.status_code}")
        seal_only = 0.0
        if data:
            new = sealing.NewRequest(sealing.RequestText("t", "s", "h"), frozenset({"legal"}),
                                     frozenset({"fa"}), "mena", "urgent")
            start = time.perf_counter()
            sealing.submit_request(conn, requester_id, keys, new, Policy.of(config),
                                   [Attachment(0, name, "application/octet-stream", data)])
            conn.commit()
            seal_only = time.perf_counter() - start
        conn.close()
    return {"bytes": len(data), "upload_to_sealed": upload, "seal_only": seal_only,
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "remover_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(one(sys.argv[2], sys.stdin.buffer.read())))
        return 0
    print(f"{'case':<14}{'file':>10}{'upload→sealed':>16}{'seal only':>12}"
          f"{'peak RSS':>11}{'remover RSS':>14}")
    for case in CASES:
        # Made here, so that Pillow and exiftool count in no case's figures;
        # the case reads the file from a pipe.
        name, data = ("", b"") if case == "text only" else make_file(case)
        done = subprocess.run([sys.executable, __file__, "--one", name],  # noqa: S603
                              input=data, capture_output=True, check=False)
        if done.returncode != 0:
            print(f"{case}: failed\n{done.stderr.decode()[-2000:]}", file=sys.stderr)
            return 1
        figures = json.loads(done.stdout.decode().strip().splitlines()[-1])
        if data:  # one line each for the suite's table (bench/run_all.py)
            print(f"ROW | {case}: upload to sealed, peak RSS | "
                  f"{figures['upload_to_sealed']:.2f} s, {figures['rss_mib']:.0f} MiB "
                  f"(remover {figures['remover_rss_mib']:.0f} MiB) | printed | -", flush=True)
        print(f"{case:<14}{figures['bytes'] / 2**20:>8.2f} MiB"
              f"{figures['upload_to_sealed']:>14.2f} s{figures['seal_only']:>10.2f} s"
              f"{figures['rss_mib']:>7.0f} MiB"
              f"{figures['remover_rss_mib']:>10.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
