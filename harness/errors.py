"""Exceptions that carry a message meant for the user."""


class VoxevalError(Exception):
    """An error whose message tells the user what went wrong and what to do."""


class DataNotFoundError(VoxevalError):
    """A task's data is not where it was looked for."""


class SampleError(Exception):
    """A per-sample failure (bad audio, adapter failure) recorded and counted, not fatal."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
