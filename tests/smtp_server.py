"""A real SMTP server (aiosmtpd) on a free loopback port, collecting what it receives."""

import email
import email.policy
import socket
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    """The server's handler: keeps every accepted message, or answers `refuse_with`."""

    def __init__(self) -> None:
        self.envelopes = []
        self.refuse_with: str | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse_with:
            return self.refuse_with
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.recorder = Recorder()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, reply: str | None) -> None:
        """Answer every message with `reply` (e.g. "451 4.3.0 Try again later"), or accept."""
        self.recorder.refuse_with = reply

    @property
    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            for envelope in self.recorder.envelopes
        ]

    @property
    def recipients(self) -> list[str]:
        return [rcpt for envelope in self.recorder.envelopes for rcpt in envelope.rcpt_tos]
