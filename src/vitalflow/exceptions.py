"""Every error vitalflow raises on purpose: one flat module, one class per failure a user can act on.

The message of each instance is written for the person who dropped the file or runs the command,
so the CLI and the handlers show ``str(exc)`` and never a traceback.
"""


class VitalflowError(Exception):
    """Base class: anything vitalflow reports to a user."""


class ConfigurationError(VitalflowError):
    """A setting is missing or malformed."""


class BatchRejected(VitalflowError):
    """The file as a whole cannot be processed (empty, not CSV, wrong columns, bad encoding)."""


class EmptyFile(BatchRejected):
    """The file has no bytes, or a header and no data rows."""


class NotCsv(BatchRejected):
    """The bytes are not a delimited text file."""


class BadEncoding(BatchRejected):
    """The bytes are not UTF-8."""


class MissingColumns(BatchRejected):
    """The header lacks required columns."""


class OutOfMemoryBudget(BatchRejected):
    """The job would outgrow its memory (Glue Python shell: 1 GB) on this file."""


class RowTooLong(BatchRejected):
    """A record is longer than the reader accepts (an unclosed quote, or no line breaks)."""


class Compressed(NotCsv):
    """The bytes are a compressed file or an archive, not the CSV inside it."""


class SuiteError(VitalflowError):
    """The expectation suite file is unreadable or inconsistent with the dataset contract."""


class ContractViolation(VitalflowError):
    """Processed rows broke the dataset contract: a bug in the suite or the job; nothing is committed."""


class ObjectNotFound(VitalflowError):
    """An object the pipeline needs is not in the store."""


class QueryError(VitalflowError):
    """A query failed, or cannot be translated between dialects."""


class TranslationError(QueryError):
    """A stored query uses Athena SQL that the local engine cannot run identically."""


class AnalystError(VitalflowError):
    """The analyst could not produce a valid analysis."""


class ResultTooLarge(VitalflowError):
    """A batch record would not fit in one result item."""


class NotificationInProgress(VitalflowError):
    """Another live invocation holds the batch's notify lease; the event is retried later."""


class MailError(VitalflowError):
    """The report could not be sent."""


class RowCountMismatch(VitalflowError):
    """Internal safety net: the outputs do not add up to the input, so nothing is committed."""


class StartInProgress(VitalflowError):
    """Another invocation holds a fresh claim on this upload; the message is retried later."""


class JobThrottled(VitalflowError):
    """Glue will not start another run now; the message is retried later through SQS."""


class EventPublishFailed(VitalflowError):
    """EventBridge did not accept an event; raised so the caller's retry policy applies."""


class BadSourceName(VitalflowError):
    """A source name given on the command line is empty, too long or not printable."""


class LakeCommitConflict(VitalflowError):
    """Other jobs kept committing to a lake table first, every time this one tried."""


class StoredReadingsChanged(LakeCommitConflict):
    """Another job stored readings of this batch's dates after the batch compared with them: the
    batch is validated again (a few times), then the user is told to rerun it."""


class EraseRefused(VitalflowError):
    """An erasure request that cannot be carried out as given."""


class StateContention(VitalflowError):
    """A shared state file kept changing under every attempt to update it."""


class MigrationMismatch(VitalflowError):
    """Rows counted in the tables after a migration differ from those in the files before it."""
