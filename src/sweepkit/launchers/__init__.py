"""Launchers: sweepkit agents started on the engines a cluster already runs (SLURM, Kubernetes, Ray).

Each launcher starts N ``sweepkit agent`` processes against the sweep's store or server
(``connection.py``) and leaves the scheduling to its engine; the sweep service hands each run out
once, whichever agent asks. Each engine's module imports its client only when used.
"""
