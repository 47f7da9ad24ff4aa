"""The blocking client."""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

import grpc

from sluice_client import _convert
from sluice_client._channel import Pem, channel_credentials, open_channel
from sluice_client._gen.sluice.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc
from sluice_client.backoff import Reconnect
from sluice_client.errors import SluiceError
from sluice_client.publisher import Publisher
from sluice_client.publisher_options import PublisherOptions, publisher_settings
from sluice_client.subscription import Subscription
from sluice_client.values import Publishable, PublishResult, Seconds, Start

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

__all__ = ["Client"]


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except grpc.RpcError as error:
        raise SluiceError.from_rpc_error(error) from error


class Client:
    """A connection to one broker, e.g. ``Client("127.0.0.1:50051")``.

    Plaintext unless TLS is asked for: ``root_certificates`` (PEM, bytes or
    str) to trust, plus ``private_key`` and ``certificate_chain`` for mutual
    TLS, or ready-made ``credentials``. ``token`` is sent as
    ``authorization: Bearer <token>`` on every call (over plaintext anyone on
    the path can read it). Raises ``ValueError`` for a key without a
    certificate chain or a malformed token. Every call raises
    ``SluiceError`` on failure, with the gRPC status the RPC documents.
    ``timeout`` (seconds) bounds each unary call. Admin calls return the
    generated ``sluice.v1`` messages (``Topic``, ``Group``) unchanged.
    Close it, or use it as a context manager.
    """

    def __init__(
        self,
        address: str,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        options: Sequence[tuple[str, object]] = (),
        timeout: float = 30.0,
        token: str | None = None,
        root_certificates: Pem | None = None,
        private_key: Pem | None = None,
        certificate_chain: Pem | None = None,
    ) -> None:
        tls = channel_credentials(credentials, root_certificates, private_key, certificate_chain)
        self._channel = open_channel(address, tls, token, options)
        self._broker = broker_pb2_grpc.BrokerServiceStub(self._channel)
        self._admin = admin_pb2_grpc.AdminServiceStub(self._channel)
        self._timeout = timeout
        self._publishers: set[Publisher] = set()

    # Publishing and consuming.

    def publisher(self, topic: str, **options: Unpack[PublisherOptions]) -> Publisher:
        """A batching, pipelined publisher to ``topic`` on one PublishStream
        (see ``Publisher``); ``options`` are ``PublisherOptions``. Raises
        ``TypeError`` for an unknown option, ``ValueError`` for a value out
        of range. A missing topic shows as ``NOT_FOUND`` on the sends."""
        publisher = Publisher(self._broker, topic, publisher_settings(options), self._publishers.discard)
        self._publishers.add(publisher)
        return publisher

    def publish(self, topic: str, messages: Publishable | Iterable[Publishable]) -> list[PublishResult]:
        """Publishes messages (payloads or ``Outgoing``) and returns where each
        was stored, in order, once all are durably written. A message whose
        ``message_id`` the topic saw within its dedupe window is not stored
        again: its result has ``duplicate`` set and the original's position."""
        request = broker_pb2.PublishRequest(topic=topic, messages=_convert.publish_messages(messages))
        with _translated():
            response = self._broker.Publish(request, timeout=self._timeout)
        return _convert.publish_results(response.results)

    def subscribe(
        self,
        topic: str,
        group: str,
        *,
        max_in_flight: int | None = None,
        start: Start | None = None,
        ack_deadline: Seconds | None = None,
        consumer_name: str = "",
        timeout: float | None = None,
        reconnect: Reconnect | None = None,
    ) -> Subscription:
        """Opens a subscription of ``group`` to ``topic``; returns once subscribed.

        ``max_in_flight`` caps unacked messages on this stream (broker default
        1000). ``start`` and ``ack_deadline`` apply only if this creates the
        group. ``reconnect`` is the policy for reopening a broken stream
        (default ``Reconnect()``: never gives up). Raises ``SluiceError``
        (e.g. ``NOT_FOUND`` for no such topic) when the first open fails.
        """
        request = _convert.open_request(
            topic, group, max_in_flight=max_in_flight, start=start,
            ack_deadline=ack_deadline, consumer_name=consumer_name,
        )
        return Subscription(self._broker, request, timeout=timeout or self._timeout, reconnect=reconnect or Reconnect())

    # Topics.

    def create_topic(
        self, name: str, partitions: int = 1, *, max_age: Seconds | None = None, max_bytes: int = 0
    ) -> admin_pb2.Topic:
        """Creates a topic. ``ALREADY_EXISTS`` if it does."""
        request = admin_pb2.CreateTopicRequest(name=name, partitions=partitions)
        if max_age is not None or max_bytes:
            request.retention.max_bytes = max_bytes
            if max_age is not None:
                request.retention.max_age.CopyFrom(_convert.duration(max_age))
        with _translated():
            return self._admin.CreateTopic(request, timeout=self._timeout).topic

    def get_topic(self, name: str) -> admin_pb2.Topic:
        """Describes a topic with its partitions. ``NOT_FOUND`` if none."""
        with _translated():
            return self._admin.GetTopic(admin_pb2.GetTopicRequest(name=name), timeout=self._timeout).topic

    def list_topics(self, *, page_size: int = 0) -> Iterator[admin_pb2.Topic]:
        """Yields every topic in name order, fetching a page at a time."""
        token = ""
        while True:
            with _translated():
                page = self._admin.ListTopics(
                    admin_pb2.ListTopicsRequest(page_size=page_size, page_token=token), timeout=self._timeout
                )
            yield from page.topics
            if not (token := page.next_page_token):
                return

    def delete_topic(self, name: str) -> None:
        """Deletes a topic, its messages and groups. ``NOT_FOUND`` if none."""
        with _translated():
            self._admin.DeleteTopic(admin_pb2.DeleteTopicRequest(name=name), timeout=self._timeout)

    # Groups.

    def create_group(
        self, topic: str, group: str, *, start: Start | None = None, ack_deadline: Seconds | None = None
    ) -> admin_pb2.Group:
        """Creates a consumer group. ``ALREADY_EXISTS`` if it does."""
        request = admin_pb2.CreateGroupRequest(topic=topic, group=group)
        if (position := _convert.start_position(start)) is not None:
            request.start.CopyFrom(position)
        if (settings := _convert.group_settings(ack_deadline)) is not None:
            request.settings.CopyFrom(settings)
        with _translated():
            return self._admin.CreateGroup(request, timeout=self._timeout).group

    def get_group(self, topic: str, group: str) -> admin_pb2.Group:
        """Describes a group: per partition committed offset, lag, in flight;
        its consumers. ``NOT_FOUND`` if none."""
        with _translated():
            return self._admin.GetGroup(
                admin_pb2.GetGroupRequest(topic=topic, group=group), timeout=self._timeout
            ).group

    def list_groups(self, topic: str) -> list[admin_pb2.Group]:
        """A topic's groups in name order. ``NOT_FOUND`` if no such topic."""
        with _translated():
            return list(self._admin.ListGroups(
                admin_pb2.ListGroupsRequest(topic=topic), timeout=self._timeout).groups)

    def delete_group(self, topic: str, group: str, *, force: bool = False) -> None:
        """Deletes a group. ``FAILED_PRECONDITION`` while consumers are
        connected, unless ``force`` (their streams then end with ``ABORTED``)."""
        with _translated():
            self._admin.DeleteGroup(
                admin_pb2.DeleteGroupRequest(topic=topic, group=group, force=force), timeout=self._timeout
            )

    # Lifecycle.

    def close(self) -> None:
        """Closes the publishers (waiting for their confirmations), then the
        channel; open subscriptions end."""
        for publisher in list(self._publishers):
            publisher.close()
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
