"""Data Docs: one self-contained, reviewer-readable page per batch, and an index that scales.

``publish`` writes a batch's page and index entry (``page`` is what the page shows, ``wording`` how
a rule reads); ``site`` keeps the day, month and index pages; ``prune`` expires old batches.
Maintaining the site (``site``, ``prune``) imports neither Great Expectations nor pandas.
"""
