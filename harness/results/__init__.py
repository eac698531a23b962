"""Results: the run.json schema, the one reader of run folders, and the record files."""

from voxeval.results.reader import (
    CorruptRecordsError,
    InvalidRunError,
    RunFolder,
    find_run,
    open_run,
    read_run,
)
from voxeval.results.schema import (
    RUN_FILE,
    SCHEMA_VERSION,
    DatasetIdentity,
    MetricValue,
    ModelRecord,
    RunResult,
    TaskResult,
    Timing,
    UsageTotals,
    write_run,
)
from voxeval.secrets import REDACTED, redact

__all__ = [
    "REDACTED",
    "RUN_FILE",
    "SCHEMA_VERSION",
    "CorruptRecordsError",
    "DatasetIdentity",
    "InvalidRunError",
    "MetricValue",
    "ModelRecord",
    "RunFolder",
    "RunResult",
    "TaskResult",
    "Timing",
    "UsageTotals",
    "find_run",
    "open_run",
    "read_run",
    "redact",
    "write_run",
]
