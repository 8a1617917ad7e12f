"""A refusal decided by the protocol layer itself (not by the domain)."""


class Refusal(Exception):
    """Answer the stanza with this error; same shape as the domain's ``MucError``."""

    def __init__(self, condition: str, error_type: str = "cancel", text: str | None = None):
        super().__init__(condition)
        self.condition = condition
        self.error_type = error_type
        self.text = text
