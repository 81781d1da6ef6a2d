"""Every page's weight, and a requester's list of 250 requests.

Weight: each HTML page both apps serve to a GET (found in their URL maps,
so a new page is weighed without editing this file), as the visitor it is
for sees it: anonymous for open pages, a requester with requests, a
volunteer who is an operator with 25 dashboard rows. Printed: the HTML
bytes, and the HTML plus the stylesheets as a first visit in Tor Browser at
Safest downloads them: haven.css gzip-compressed (Tor Browser accepts gzip;
the plain size is printed beside it) and noscript.css, which loads when
scripts are off. HTML is sent uncompressed, so its bytes are what crosses.

Time: ``/requests`` for a requester with 250 requests, p50 through the app.

    .venv/bin/python bench/pages_bench.py [--runs 30]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import havenbench as hb

IN_BENCH_SUITE = True
LIMIT = 10 * 1024
LIST_GOAL_MS = 20.0
# Not pages: files, redirects and machine-readable answers.
NOT_PAGES = {"static", "favicon", "language.choose", "volunteer.enrol_qr",
             "volunteer.key_challenge",
             "volunteer.export_bundle", "volunteer.readers_file", "volunteer.enrol",
             "volunteer.applied"}


def _submit(conn: Any, config: Any, requester_id: int, keys: Any, count: int,
            urgency: str = "normal") -> list[str]:
    from onion_app.domain import sealing
    from onion_app.domain.matching import Policy

    return [sealing.submit_request(conn, requester_id, keys, sealing.NewRequest(
        sealing.RequestText(f"Request number {n}", "What is happening. " * 60, "Help."),
        frozenset(hb.SKILL_CODES[:2]), frozenset(hb.LANGUAGE_CODES[:2]), "unsaid", urgency),
        Policy.of(config)) for n in range(count)]


def weights() -> list[tuple[str, int]]:
    from onion_app import create_app
    from onion_app.domain import sealing
    from onion_app.web.state import Runtime

    found = []
    with hb.instance() as config:
        runtime = Runtime.for_config(config)
        apps = {role: create_app(role, config, runtime) for role in ("public", "staff")}
        with runtime.database.connect() as conn:
            volunteers = hb.add_volunteers(conn, 12, rng=hb.random.Random(5),
                                           always=(hb.SKILL_CODES[0], hb.LANGUAGE_CODES[0]))
            conn.execute("UPDATE volunteers SET is_operator = 1 WHERE id = ?",
                         (volunteers[0].id,))
            requester_id, keys = hb.add_requester(conn)
            ids = _submit(conn, config, requester_id, keys, 30)
            request_id = conn.execute("SELECT id FROM requests WHERE public_id = ?",
                                      (ids[0],)).fetchone()[0]
            for n in range(4):
                sealing.post_message(conn, request_id, f"Reply {n}. " * 40,
                                     from_requester=n % 2 == 0,
                                     author_volunteer_id=None if n % 2 == 0
                                     else volunteers[0].id)
            public_id = conn.execute("SELECT public_id FROM volunteers WHERE id = ?",
                                     (volunteers[0].id,)).fetchone()[0]
            conn.commit()
        clients = {
            "public": hb.signed_in(apps["public"], "requester", requester_id,
                                   requester_keys=keys,
                                   account_ref=bytes(keys.public_key).hex()),
            "staff": hb.signed_in(apps["staff"], "volunteer", volunteers[0].id,
                                  private_key=volunteers[0].key, account_ref=public_id),
        }
        sheets = apps["public"].test_client()
        plain = len(sheets.get("/static/haven.css").get_data())
        gzipped = sheets.get("/static/haven.css", headers={"Accept-Encoding": "gzip, deflate"})
        assert gzipped.headers.get("Content-Encoding") == "gzip"
        noscript = len(sheets.get("/static/noscript.css").get_data())
        css = len(gzipped.get_data()) + noscript
        for role, app in apps.items():
            from onion_app.web.state import state_of

            open_endpoints = state_of(app).open_endpoints
            for rule in app.url_map.iter_rules():
                if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES:
                    continue
                path = rule.rule.replace("<public_id>", ids[0])
                if rule.endpoint == "operator.application":
                    continue  # needs an applicant; /apply is weighed instead
                anonymous = rule.endpoint in open_endpoints
                client = app.test_client() if anonymous else clients[role]
                response = client.get(path)
                if response.status_code != 200:
                    print(f"  {role} {path}: answered {response.status_code}, not weighed")
                    continue
                found.append((f"{role} {rule.rule}" + ("" if anonymous else " (signed in)"),
                              len(response.get_data())))
        print(f"stylesheets: haven.css {plain:,} B plain, {css - noscript:,} B as sent (gzip); "
              f"noscript.css {noscript:,} B; {css:,} B as sent in all")
        for name, size in found:
            flag = "  OVER 10 KB" if size + css > LIMIT else ""
            print(f"  {name:<46} HTML {size:6,} B   with CSS as sent {size + css:6,} B"
                  f"   (CSS plain {size + plain + noscript:6,} B){flag}")
        return [(name, size + css) for name, size in found]


def requester_list(runs: int) -> float:
    from onion_app import create_app
    from onion_app.web.state import Runtime

    with hb.instance() as config:
        runtime = Runtime.for_config(config)
        app = create_app("public", config, runtime)
        with runtime.database.connect() as conn:
            hb.add_volunteers(conn, 20, rng=hb.random.Random(9),
                              always=(hb.SKILL_CODES[0], hb.LANGUAGE_CODES[0]))
            requester_id, keys = hb.add_requester(conn)
            _submit(conn, config, requester_id, keys, 250)
            conn.commit()
        client = hb.signed_in(app, "requester", requester_id, requester_keys=keys,
                              account_ref=bytes(keys.public_key).hex())
        times = hb.timed(lambda: hb.ok(client.get("/requests"), "/requests"), runs)
        size = len(client.get("/requests").get_data())
    print(f"a requester's /requests with 250 requests: p50 {hb.p50(times):6.2f} ms, "
          f"p90 {hb.p90(times):6.2f} ms, {size:,} B of HTML; "
          f"bare Flask page {hb.bare_page_ms():.2f} ms")
    return hb.p50(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    pages = weights()
    heaviest = max(pages, key=lambda page: page[1])
    over = [name for name, size in pages if size > LIMIT]
    hb.row("bytes per page, HTML + the CSS as sent (gzip)",
           f"{len(pages)} pages, heaviest {heaviest[0]} {heaviest[1]:,} B; "
           f"{len(over)} over 10 KB" + (f": {', '.join(over)}" if over else ""),
           "every page <= 10 KB", not over)
    list_ms = requester_list(args.runs)
    hb.row("a requester's /requests with 250 requests, p50", f"{list_ms:.1f} ms",
           f"<= {LIST_GOAL_MS:g} ms", list_ms <= LIST_GOAL_MS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
