"""The live worker: the composition root (``worker.py``) and one module per job."""
