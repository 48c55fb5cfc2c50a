"""The ``references`` layer: every analytic reference vector against qstack's own functions.

One check per :data:`qstack.conformance.references.REFERENCES` entry: the hard-coded value, the
closed form written out in the table and qstack's computation agree to 1e-9.
"""

from __future__ import annotations

from qstack.conformance.framework import TOLERANCE, CheckResult, Context, Target, check
from qstack.conformance.references import REFERENCES, Reference


def _make(ref: Reference) -> None:
    def run(target: Target, ctx: Context, ref: Reference = ref) -> CheckResult:
        closed = ref.closed_form()
        computed = ref.compute()
        worst = max(abs(closed - ref.value), abs(computed - ref.value))
        ok = worst <= TOLERANCE
        return CheckResult(ok, computed, ref.value, tolerance=TOLERANCE,
                           detail=f"{ref.computed_by}; closed form {closed:.12g}; {ref.source}")

    check(f"reference.{ref.name}", "references", f"{ref.formula} — {ref.source}", source=ref.source)(run)


for _ref in REFERENCES.values():
    _make(_ref)
