"""The ``csv`` connector: flat files through an inbox and an outbox directory."""

from connectors.csv.config import CsvConfig
from connectors.csv.connector import CsvConnector

__all__ = ["CsvConfig", "CsvConnector"]
