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
    # A backfill the fuzzer starts is a dry run (its range may be a year of hours: thousands of child runs would load
    # the Temporal server every other test shares); it is a real backfill workflow all the same, with its links.
    # Only a valid or absent value is replaced: an invalid one stays, for the case to keep what it tests.
    if case.method == "POST" and case.path.endswith("/backfills") and isinstance(case.body, dict):
        if case.body.get("dryRun") in (None, False, True):
            case.body["dryRun"] = True
