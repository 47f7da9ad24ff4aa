"""Merging queued Subscribe requests before they go out."""

from __future__ import annotations

from typing import Callable, Sequence

from sluice_client._gen.sluice.v1 import broker_pb2

# Positions merged into one ack request at most (~40 KB).
MAX_ACK_POSITIONS = 4096


def coalesce(requests: Sequence[broker_pb2.SubscribeRequest]) -> list[broker_pb2.SubscribeRequest]:
    """The requests in order, each run of consecutive acks merged into one.

    Acks made while the stream was sending go out as one request instead of
    one each, which costs the broker far less per message. Nacks and
    extensions are kept as they are, and so is the order of every request;
    an ack that asks for a confirmation (``ack_id``) is never merged. The
    requests given are not changed.
    """
    out: list[broker_pb2.SubscribeRequest] = []
    merging = False  # whether out[-1] is a merged ack of our own
    for request in requests:
        if request.WhichOneof("request") != "ack" or request.ack.ack_id != 0:
            out.append(request)
            merging = False
            continue
        last = out[-1] if out else None
        if (last is not None and last.WhichOneof("request") == "ack" and last.ack.ack_id == 0
                and len(last.ack.positions) + len(request.ack.positions) <= MAX_ACK_POSITIONS):
            if not merging:
                last = broker_pb2.SubscribeRequest(ack=broker_pb2.SubscribeRequest.Ack(positions=last.ack.positions))
                out[-1] = last
                merging = True
            last.ack.positions.extend(request.ack.positions)
        else:
            out.append(request)
            merging = False
    return out


def take_queued(
    first: broker_pb2.SubscribeRequest,
    get_nowait: Callable[[], broker_pb2.SubscribeRequest | None],
    empty: type[Exception],
) -> tuple[list[broker_pb2.SubscribeRequest], bool]:
    """``first`` and the requests queued behind it, merged (see ``coalesce``).

    ``get_nowait`` takes the next queued request (``None`` marks the end of
    the stream) or raises ``empty``. Returns the requests to send and whether
    the stream goes on after them.
    """
    batch = [first]
    while True:
        try:
            request = get_nowait()
        except empty:
            return coalesce(batch), True
        if request is None:
            return coalesce(batch), False
        batch.append(request)
