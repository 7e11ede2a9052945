"""The daily data-quality digest: what no single batch shows, per source, once a day.

``monitors`` runs the stored queries of ``sql/digest`` (the same on Athena and DuckDB) over the
batch summaries of a fortnight and judges each source's day against its own history; the email is
rendered by ``vitalflow.notify``; ``vitalflow.stages.digest`` sends it once per day.
"""

from vitalflow.digest.model import Digest, Finding, SourceDigest
from vitalflow.digest.monitors import MonitorOptions, evaluate

__all__ = ["Digest", "Finding", "MonitorOptions", "SourceDigest", "evaluate"]
