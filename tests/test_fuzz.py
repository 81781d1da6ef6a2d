"""A bounded fuzz over every route of both apps, through Flask's test client:
methods, content types, field values with NULs, lone surrogates, RTL marks,
huge and nested values, malformed cookies. No answer may be a 5xx, and every
answer carries Haven's headers. bench/fuzz.py runs the same cases, ten
thousand and more, against a real waitress."""

from __future__ import annotations

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings

from tests.fuzz_cases import Case, build_world, cases, problems

EXAMPLES = 150


@pytest.mark.parametrize("past_the_gates", [False, True], ids=["anything", "past-the-gates"])
def test_no_route_answers_any_input_with_a_5xx_or_without_havens_headers(
        public_app: Flask, staff_app: Flask, past_the_gates: bool) -> None:
    world = build_world(public_app, staff_app)
    clients = {"public": public_app.test_client(use_cookies=False),
               "staff": staff_app.test_client(use_cookies=False)}

    # The world (sign-ins, a request) is built once; hypothesis then draws
    # the cases. No shrinking of the world, only of the case.
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=(Phase.generate, Phase.shrink),
              suppress_health_check=list(HealthCheck))
    @given(cases(world, past_the_gates=past_the_gates))
    def one(case: Case) -> None:
        response = clients[case.role].open(
            case.path, method=case.method, headers=list(case.headers), data=case.body)
        headers = {name.lower(): value for name, value in response.headers.items()}
        found = problems(response.status_code, headers, response.content_type or "")
        response.close()
        assert not found, found

    one()
