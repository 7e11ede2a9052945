"""The live dashboard: batches as the pipeline's events move them, and the quality trend per source.

``board`` folds events into rows and trends (shared by ``vitalflow serve`` and the AWS function),
``app`` is the local web app, ``page`` the one HTML page both publish.
"""
