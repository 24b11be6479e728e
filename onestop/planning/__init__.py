"""Capacity planning for one-stop centres: queueing formulas, staffing, forecasting, simulation.

The modules are pure Python (numpy/scipy), free of Django, so they can be tested and
benchmarked on their own:

* :mod:`onestop.planning.erlang` – Erlang B/C/A formulas and staffing searches;
* :mod:`onestop.planning.timevarying` – counter plans for a day of time-varying demand;
* :mod:`onestop.planning.forecast` – demand forecast per group, weekday and hour;
* :mod:`onestop.planning.simulator` – discrete-event simulation of a centre day;
* :mod:`onestop.planning.evaluation` – scoring of wait predictors on simulated days;
* :mod:`onestop.planning.policies` – booking and priority policy comparisons;
* :mod:`onestop.planning.api` – ``plan_day`` and ``simulate_day`` for the CLI and web page.

The package's ``__init__`` deliberately imports nothing, so loading the Django app does
not pull in scipy.
"""
