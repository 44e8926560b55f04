#!/usr/bin/env python3
"""Independent oracle for the Attestation tests and bench: Phala's dcap-qvl (Rust, via its PyPI bindings).

Input on stdin: a JSON list of cases {"name", "quote" (path), "collateral" (path or null), "now" (Unix seconds)}.
Mode `verify` (default): prints a JSON list of {"name", "verdict": "accepted"|"rejected", "status", "advisory_ids", "error"}.
Mode `time ITERATIONS`: verifies each case ITERATIONS times and prints {"name": seconds_per_verification} (median of 5 batches).
dcap-qvl rejects debug quotes and invalid TCB statuses itself; our CLI's authenticity verdict does the same.
"""
import json
import sys
import time

import dcap_qvl


def load(case):
    quote = open(case["quote"], "rb").read()
    collateral = None
    if case.get("collateral"):
        collateral = dcap_qvl.QuoteCollateralV3.from_json(open(case["collateral"]).read()) if hasattr(dcap_qvl, "QuoteCollateralV3") \
            else dcap_qvl.PyQuoteCollateralV3.from_json(open(case["collateral"]).read())
    return quote, collateral


def verify_one(quote, collateral, now):
    return dcap_qvl.verify(quote, collateral, now)


def main():
    cases = json.load(sys.stdin)
    mode = sys.argv[1] if len(sys.argv) > 1 else "verify"
    if mode == "verify":
        out = []
        for case in cases:
            quote, collateral = load(case)
            entry = {"name": case["name"]}
            if collateral is None:
                entry.update(verdict="rejected", status=None, advisory_ids=[], error="no collateral")
            else:
                try:
                    report = verify_one(quote, collateral, case["now"])
                    entry.update(verdict="accepted", status=report.status, advisory_ids=list(report.advisory_ids), error=None)
                except Exception as e:  # dcap-qvl raises ValueError with a message
                    entry.update(verdict="rejected", status=None, advisory_ids=[], error=str(e))
            out.append(entry)
        print(json.dumps(out))
    elif mode == "time":
        iterations = int(sys.argv[2])
        out = {}
        for case in cases:
            quote, collateral = load(case)
            samples = []
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(iterations):
                    verify_one(quote, collateral, case["now"])
                samples.append((time.perf_counter() - start) / iterations)
            samples.sort()
            out[case["name"]] = samples[2]
        print(json.dumps(out))
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
