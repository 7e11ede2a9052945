"""The daily data-quality digest: what no single batch shows, per source, once a day.

``monitors`` runs the stored queries of ``sql/digest`` (the same on Athena and DuckDB) over the
batch summaries of a few weeks and judges each source's day against its own history; ``model``
holds what it found; ``narrative`` says it in a few sentences; the email is rendered by
``vitalflow.notify``; ``vitalflow.stages.digest`` sends it once per day. Nothing is imported here:
the notify function renders with ``model`` alone and has neither pyarrow nor DuckDB.
"""
