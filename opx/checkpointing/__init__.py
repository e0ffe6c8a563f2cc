"""LangGraph checkpoints in DynamoDB: the saver, the table schema, and index look-ups."""

from opx.checkpointing.errors import CheckpointCorruptError, CheckpointError, CheckpointWriteError
from opx.checkpointing.index import find_executions
from opx.checkpointing.saver import DynamoDBCheckpointer, default_client
from opx.checkpointing.schema import TABLE_SCHEMA, TableSchema, create_table

__all__ = [
    "TABLE_SCHEMA",
    "CheckpointCorruptError",
    "CheckpointError",
    "CheckpointWriteError",
    "DynamoDBCheckpointer",
    "TableSchema",
    "create_table",
    "default_client",
    "find_executions",
]
