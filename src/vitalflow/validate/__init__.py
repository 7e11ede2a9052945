"""Stage 2, validate: a raw CSV into processed and rejected Parquet, a manifest and Data Docs (``batch``).

Importing this package loads nothing heavy: commands that only maintain the Data Docs site use
``vitalflow.datadocs.site`` without Great Expectations.
"""
