"""Fuzz targets for every parser of the project (issue 16, scope 6; SECURITY-TESTS 45).

``make fuzz`` runs each target for a bounded time (``FUZZ_SECONDS``, default 30) with atheris
(libFuzzer, coverage guided) when it is installed, else with Hypothesis; ``make test`` runs
each target briefly on the committed corpus (tests/unit/test_fuzz_short.py). A target passes
when every input either parses or raises :class:`ssiwallet.errors.SsiError`; any other
exception is a finding.
"""
