"""Optimisation of a plan: levers searched with Optuna, the best plans confirmed by more runs.

`problem` (the file), `variables` (plans from trials), `evaluate` (runs), `study` (the search),
`confirm` (the noise-aware choice), `outcome` (what follows), `run` (the entry point).
Needs the `optimize` extra (Optuna); importing this package alone imports none of it.
"""
