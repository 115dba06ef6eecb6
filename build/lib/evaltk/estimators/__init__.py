"""Estimators: turn a unit × period series into effects with intervals.

One subpackage per design (``its`` for interrupted time series). Each follows the same shape:
a frozen spec, a model built from data and spec that does no work until ``fit()``, and a
separate read-only result that renders itself.
"""
