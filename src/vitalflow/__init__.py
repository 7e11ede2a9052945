"""vitalflow: batch analytics for health-vitals CSVs, on AWS or offline on one machine."""

__version__ = "0.1.0"
