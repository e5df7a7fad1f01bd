"""Writes on variants, one module per concern:

- lifecycle.py  – guarded status transitions (conditional UPDATEs)
- generation.py – plan a batch for a master and persist it
- rendering.py  – render one variant to MP4 + poster through the storage API
"""
