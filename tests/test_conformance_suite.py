"""Static checks of the conformance suite's own tables: every per-operation exclusion names an
operation of the spec and a real schemathesis check, and says why."""

from __future__ import annotations

import sys

import pytest
import yaml
from broken_variants import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def operation_ids(spec: str) -> set[str]:
    document = yaml.safe_load((ROOT / "openapi" / spec).read_text(encoding="utf-8"))
    return {op["operationId"] for item in document["paths"].values() for op in item.values()
            if isinstance(op, dict) and "operationId" in op}


@pytest.mark.parametrize(("module", "spec"), [("conformance.ufdl_schema", "ufdl.yaml"),
                                              ("conformance.testiny_schema", "testiny.yaml")])
def test_exclusions_name_real_operations_and_checks_with_a_reason(module, spec):
    from schemathesis import checks

    table = __import__(module, fromlist=["EXCLUDED"]).EXCLUDED
    known = operation_ids(spec)
    for operation, excluded in table.items():
        assert operation in known, f"{module}.EXCLUDED names unknown operation {operation!r}"
        for check, reason in excluded.items():
            assert callable(getattr(checks, check)), check
            assert len(reason) > 20, f"{operation}/{check}: say why"
