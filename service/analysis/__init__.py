"""The analyses: scorecard, benchmarks, geometry, probe, alignment, side by side, overlap,
sentence vectors and plots, over loaded spaces (or tables seen as spaces).

May import: service.store and the top-level settings, errors, text; never Flask.
"""
