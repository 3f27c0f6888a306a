"""The workshop dashboard: a Solara page over one or two funnel models stepped side by side.

`levers`, `session`, `snapshot` and `figures` are plain Python (no Solara), so they can be tested
and benchmarked alone; `components` and `app` are the Solara page; `server` starts it (`serve` in
its process), `room` keeps its sessions and limits, `workers` runs their models on every core.
"""
