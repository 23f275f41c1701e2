"""The pure core of rectoplan: no I/O, no clock, no randomness, no globals.

Everything here is a function of its arguments, so the same case and the same knowledge version always
give the same recommendation, and the cohort and verifier back ends can be checked against it.
"""
