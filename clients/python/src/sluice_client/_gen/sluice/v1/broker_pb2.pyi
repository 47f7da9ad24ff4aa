import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from sluice_client._gen.sluice.v1 import message_pb2 as _message_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FetchRequest(_message.Message):
    __slots__ = ("topic", "group", "max_messages", "max_wait")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    MAX_WAIT_FIELD_NUMBER: _ClassVar[int]
    topic: str
    group: str
    max_messages: int
    max_wait: _duration_pb2.Duration
    def __init__(self, topic: _Optional[str] = ..., group: _Optional[str] = ..., max_messages: _Optional[int] = ..., max_wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class FetchResponse(_message.Message):
    __slots__ = ("deliveries", "deadline")
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    deadline: _timestamp_pb2.Timestamp
    def __init__(self, deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AckRequest(_message.Message):
    __slots__ = ("topic", "group", "positions")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    topic: str
    group: str
    positions: _containers.RepeatedCompositeFieldContainer[_message_pb2.Position]
    def __init__(self, topic: _Optional[str] = ..., group: _Optional[str] = ..., positions: _Optional[_Iterable[_Union[_message_pb2.Position, _Mapping]]] = ...) -> None: ...

class AckResponse(_message.Message):
    __slots__ = ("acked", "ignored")
    ACKED_FIELD_NUMBER: _ClassVar[int]
    IGNORED_FIELD_NUMBER: _ClassVar[int]
    acked: int
    ignored: int
    def __init__(self, acked: _Optional[int] = ..., ignored: _Optional[int] = ...) -> None: ...

class NackRequest(_message.Message):
    __slots__ = ("topic", "group", "positions", "delay")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    topic: str
    group: str
    positions: _containers.RepeatedCompositeFieldContainer[_message_pb2.Position]
    delay: _duration_pb2.Duration
    def __init__(self, topic: _Optional[str] = ..., group: _Optional[str] = ..., positions: _Optional[_Iterable[_Union[_message_pb2.Position, _Mapping]]] = ..., delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class NackResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ExtendDeadlineRequest(_message.Message):
    __slots__ = ("topic", "group", "positions", "deadline")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    topic: str
    group: str
    positions: _containers.RepeatedCompositeFieldContainer[_message_pb2.Position]
    deadline: _duration_pb2.Duration
    def __init__(self, topic: _Optional[str] = ..., group: _Optional[str] = ..., positions: _Optional[_Iterable[_Union[_message_pb2.Position, _Mapping]]] = ..., deadline: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ExtendDeadlineResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PublishRequest(_message.Message):
    __slots__ = ("topic", "messages")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    topic: str
    messages: _containers.RepeatedCompositeFieldContainer[_message_pb2.PublishMessage]
    def __init__(self, topic: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[_message_pb2.PublishMessage, _Mapping]]] = ...) -> None: ...

class PublishResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_message_pb2.PublishResult]
    def __init__(self, results: _Optional[_Iterable[_Union[_message_pb2.PublishResult, _Mapping]]] = ...) -> None: ...

class PublishStreamRequest(_message.Message):
    __slots__ = ("request_id", "topic", "messages")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    topic: str
    messages: _containers.RepeatedCompositeFieldContainer[_message_pb2.PublishMessage]
    def __init__(self, request_id: _Optional[int] = ..., topic: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[_message_pb2.PublishMessage, _Mapping]]] = ...) -> None: ...

class PublishStreamResponse(_message.Message):
    __slots__ = ("request_id", "results", "error")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    results: _containers.RepeatedCompositeFieldContainer[_message_pb2.PublishResult]
    error: RequestError
    def __init__(self, request_id: _Optional[int] = ..., results: _Optional[_Iterable[_Union[_message_pb2.PublishResult, _Mapping]]] = ..., error: _Optional[_Union[RequestError, _Mapping]] = ...) -> None: ...

class RequestError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("open", "ack", "nack", "extend")
    class Open(_message.Message):
        __slots__ = ("topic", "group", "max_in_flight", "start", "settings", "consumer_name", "ack_confirmations")
        TOPIC_FIELD_NUMBER: _ClassVar[int]
        GROUP_FIELD_NUMBER: _ClassVar[int]
        MAX_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
        START_FIELD_NUMBER: _ClassVar[int]
        SETTINGS_FIELD_NUMBER: _ClassVar[int]
        CONSUMER_NAME_FIELD_NUMBER: _ClassVar[int]
        ACK_CONFIRMATIONS_FIELD_NUMBER: _ClassVar[int]
        topic: str
        group: str
        max_in_flight: int
        start: _message_pb2.StartPosition
        settings: _message_pb2.GroupSettings
        consumer_name: str
        ack_confirmations: bool
        def __init__(self, topic: _Optional[str] = ..., group: _Optional[str] = ..., max_in_flight: _Optional[int] = ..., start: _Optional[_Union[_message_pb2.StartPosition, _Mapping]] = ..., settings: _Optional[_Union[_message_pb2.GroupSettings, _Mapping]] = ..., consumer_name: _Optional[str] = ..., ack_confirmations: _Optional[bool] = ...) -> None: ...
    class Ack(_message.Message):
        __slots__ = ("positions", "ack_id")
        POSITIONS_FIELD_NUMBER: _ClassVar[int]
        ACK_ID_FIELD_NUMBER: _ClassVar[int]
        positions: _containers.RepeatedCompositeFieldContainer[_message_pb2.Position]
        ack_id: int
        def __init__(self, positions: _Optional[_Iterable[_Union[_message_pb2.Position, _Mapping]]] = ..., ack_id: _Optional[int] = ...) -> None: ...
    class Nack(_message.Message):
        __slots__ = ("positions", "delay")
        POSITIONS_FIELD_NUMBER: _ClassVar[int]
        DELAY_FIELD_NUMBER: _ClassVar[int]
        positions: _containers.RepeatedCompositeFieldContainer[_message_pb2.Position]
        delay: _duration_pb2.Duration
        def __init__(self, positions: _Optional[_Iterable[_Union[_message_pb2.Position, _Mapping]]] = ..., delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...
    class Extend(_message.Message):
        __slots__ = ("positions", "deadline")
        POSITIONS_FIELD_NUMBER: _ClassVar[int]
        DEADLINE_FIELD_NUMBER: _ClassVar[int]
        positions: _containers.RepeatedCompositeFieldContainer[_message_pb2.Position]
        deadline: _duration_pb2.Duration
        def __init__(self, positions: _Optional[_Iterable[_Union[_message_pb2.Position, _Mapping]]] = ..., deadline: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...
    OPEN_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    NACK_FIELD_NUMBER: _ClassVar[int]
    EXTEND_FIELD_NUMBER: _ClassVar[int]
    open: SubscribeRequest.Open
    ack: SubscribeRequest.Ack
    nack: SubscribeRequest.Nack
    extend: SubscribeRequest.Extend
    def __init__(self, open: _Optional[_Union[SubscribeRequest.Open, _Mapping]] = ..., ack: _Optional[_Union[SubscribeRequest.Ack, _Mapping]] = ..., nack: _Optional[_Union[SubscribeRequest.Nack, _Mapping]] = ..., extend: _Optional[_Union[SubscribeRequest.Extend, _Mapping]] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("subscribed", "deliveries", "ack_confirmation")
    class Subscribed(_message.Message):
        __slots__ = ("consumer_id", "settings", "partitions")
        CONSUMER_ID_FIELD_NUMBER: _ClassVar[int]
        SETTINGS_FIELD_NUMBER: _ClassVar[int]
        PARTITIONS_FIELD_NUMBER: _ClassVar[int]
        consumer_id: str
        settings: _message_pb2.GroupSettings
        partitions: int
        def __init__(self, consumer_id: _Optional[str] = ..., settings: _Optional[_Union[_message_pb2.GroupSettings, _Mapping]] = ..., partitions: _Optional[int] = ...) -> None: ...
    class Deliveries(_message.Message):
        __slots__ = ("deliveries", "deadline")
        DELIVERIES_FIELD_NUMBER: _ClassVar[int]
        DEADLINE_FIELD_NUMBER: _ClassVar[int]
        deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
        deadline: _timestamp_pb2.Timestamp
        def __init__(self, deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
    class AckConfirmation(_message.Message):
        __slots__ = ("ack_id", "acked", "ignored")
        ACK_ID_FIELD_NUMBER: _ClassVar[int]
        ACKED_FIELD_NUMBER: _ClassVar[int]
        IGNORED_FIELD_NUMBER: _ClassVar[int]
        ack_id: int
        acked: int
        ignored: _containers.RepeatedCompositeFieldContainer[_message_pb2.Position]
        def __init__(self, ack_id: _Optional[int] = ..., acked: _Optional[int] = ..., ignored: _Optional[_Iterable[_Union[_message_pb2.Position, _Mapping]]] = ...) -> None: ...
    SUBSCRIBED_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    ACK_CONFIRMATION_FIELD_NUMBER: _ClassVar[int]
    subscribed: SubscribeResponse.Subscribed
    deliveries: SubscribeResponse.Deliveries
    ack_confirmation: SubscribeResponse.AckConfirmation
    def __init__(self, subscribed: _Optional[_Union[SubscribeResponse.Subscribed, _Mapping]] = ..., deliveries: _Optional[_Union[SubscribeResponse.Deliveries, _Mapping]] = ..., ack_confirmation: _Optional[_Union[SubscribeResponse.AckConfirmation, _Mapping]] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("message", "attempt")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    message: _message_pb2.Message
    attempt: int
    def __init__(self, message: _Optional[_Union[_message_pb2.Message, _Mapping]] = ..., attempt: _Optional[int] = ...) -> None: ...
