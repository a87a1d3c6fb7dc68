"""Schemathesis hooks for the contract test (test/integration/contract-fuzz.test.ts).

An Idempotency-Key names one request: a client never sends the same key with another request. The fuzzer draws
keys from the header's schema and may draw the same one twice; a valid key drawn is made unique, so the API's 422
("key used for another request") is not mistaken for a schema-valid request refused. Invalid keys are left as drawn.
"""
import re
import uuid

import schemathesis

_VALID_KEY = re.compile(r"[\x20-\x7E]{1,255}")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers or {}
    for name in list(headers):
        value = headers[name]
        if name.lower() == "idempotency-key" and isinstance(value, str) and _VALID_KEY.fullmatch(value):
            headers[name] = f"fuzz-{uuid.uuid4()}"
    # A backfill the fuzzer starts runs one partition at a time (its range may be a year of hours): the test stays
    # cheap, and the backfill is as real as any other.
    if case.method == "POST" and case.path.endswith("/backfills") and isinstance(case.body, dict):
        value = case.body.get("maxConcurrency")
        # Only a valid or absent value is lowered: an invalid one stays, for the case to keep what it tests.
        if value is None or (type(value) is int and 1 <= value <= 64):
            case.body["maxConcurrency"] = 1
