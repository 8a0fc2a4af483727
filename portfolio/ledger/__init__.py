"""The ledger: transactions, the lots engine, CSV import/export.

Submodules are imported by name (``portfolio.ledger.lots``...); this package
imports nothing so that models, services and the pure engine stay acyclic.
"""
