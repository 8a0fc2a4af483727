"""Benchmarks (issue 8). Not part of `make test`; run `make bench` or `python -m
bench.run_all`.
"""
