"""Traffic counters for classical messages: messages and bytes per channel and kind, rejections by reason.

What is measured is kept apart from protocol code (as NetSquid's ``DataCollector`` does): a layer
holds a :class:`MessageCounter` and sends through :meth:`MessageCounter.encode` /
:meth:`MessageCounter.decode`, or records traffic it framed itself with the ``count_*`` methods.

>>> from qstack.proto import MessageCounter, PathTeardown
>>> counter = MessageCounter()
>>> data = counter.encode("B", PathTeardown(flow_id=1))
>>> counter.decode("A", data).flow_id
1
>>> counter.messages_sent, counter.messages_received
(Counter({('B', 'path_teardown'): 1}), Counter({('A', 'path_teardown'): 1}))
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from qstack.proto.codec import Body, MalformedMessage, decode, encode, kind

__all__ = ["MessageCounter"]


@dataclass
class MessageCounter:
    """Counts classical messages and their wire bytes per ``(channel, kind)``, and rejections per ``(channel, reason)``.

    ``channel`` is whatever names the link the caller talks over (usually the peer node's name);
    ``kind`` is the Envelope field name of the body (``"herald"``, ``"track"``, ...); ``reason`` is
    a :class:`~qstack.proto.codec.Rejection` value.

    >>> MessageCounter().total_bytes_sent
    0
    """

    messages_sent: Counter[tuple[str, str]] = field(default_factory=Counter)
    bytes_sent: Counter[tuple[str, str]] = field(default_factory=Counter)
    messages_received: Counter[tuple[str, str]] = field(default_factory=Counter)
    bytes_received: Counter[tuple[str, str]] = field(default_factory=Counter)
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)

    def count_sent(self, channel: str, kind: str, size: int) -> None:
        """Record one message of ``size`` wire bytes sent on ``channel``.

        >>> c = MessageCounter(); c.count_sent("B", "herald", 20); c.bytes_sent["B", "herald"]
        20
        """
        self.messages_sent[channel, kind] += 1
        self.bytes_sent[channel, kind] += size

    def count_received(self, channel: str, kind: str, size: int) -> None:
        """Record one message of ``size`` wire bytes received on ``channel``.

        >>> c = MessageCounter(); c.count_received("A", "track", 31); c.messages_received["A", "track"]
        1
        """
        self.messages_received[channel, kind] += 1
        self.bytes_received[channel, kind] += size

    def count_rejected(self, channel: str, reason: str) -> None:
        """Record one input refused on ``channel`` for ``reason``.

        >>> c = MessageCounter(); c.count_rejected("A", "unparseable"); c.rejected
        Counter({('A', 'unparseable'): 1})
        """
        self.rejected[channel, str(reason)] += 1

    def encode(self, channel: str, message: Body) -> bytes:
        """:func:`~qstack.proto.codec.encode` ``message`` and count it as sent on ``channel``.

        >>> from qstack.proto import PathTeardown
        >>> c = MessageCounter(); data = c.encode("B", PathTeardown(flow_id=2))
        >>> c.bytes_sent["B", "path_teardown"] == len(data)
        True
        """
        data = encode(message)
        self.count_sent(channel, kind(message), len(data))
        return data

    def decode(self, channel: str, data: bytes) -> Body:
        """:func:`~qstack.proto.codec.decode` ``data`` received on ``channel`` and count it.

        A refused input is counted under its reason and the :class:`MalformedMessage` re-raised.

        >>> from qstack.proto import MalformedMessage
        >>> c = MessageCounter()
        >>> try:
        ...     c.decode("A", b"\\x08\\x02")
        ... except MalformedMessage:
        ...     pass
        >>> c.rejected
        Counter({('A', 'bad_version'): 1})
        """
        try:
            message = decode(data)
        except MalformedMessage as err:
            self.count_rejected(channel, err.reason)
            raise
        self.count_received(channel, kind(message), len(data))
        return message

    @property
    def total_bytes_sent(self) -> int:
        """Wire bytes sent on all channels.

        >>> c = MessageCounter(); c.count_sent("B", "herald", 5); c.count_sent("C", "herald", 7); c.total_bytes_sent
        12
        """
        return sum(self.bytes_sent.values())

    @property
    def total_bytes_received(self) -> int:
        """Wire bytes received on all channels.

        >>> c = MessageCounter(); c.count_received("A", "track", 9); c.total_bytes_received
        9
        """
        return sum(self.bytes_received.values())

    @property
    def total_rejected(self) -> int:
        """Inputs refused on all channels, for any reason.

        >>> MessageCounter().total_rejected
        0
        """
        return sum(self.rejected.values())
