"""Proven safety (`rectoplan kb verify`) and 'why not X?' (`rectoplan why-not`).

`check` evaluates the invariants on one assessment (pure Python, no z3); `prove` and `why_not` use the
z3 encoding of `rectoplan.compile.z3_smt` and are imported only when they run.
"""
