"""The generated ``sluice.v1`` modules, for admin results and raw access:
``pb.admin`` (Topic, Group, ...), ``pb.broker`` (requests, responses),
``pb.message`` (Message, Position, ...), and the stubs ``pb.admin_grpc`` and
``pb.broker_grpc``."""

from sluice_client._gen.sluice.v1 import admin_pb2 as admin
from sluice_client._gen.sluice.v1 import admin_pb2_grpc as admin_grpc
from sluice_client._gen.sluice.v1 import broker_pb2 as broker
from sluice_client._gen.sluice.v1 import broker_pb2_grpc as broker_grpc
from sluice_client._gen.sluice.v1 import message_pb2 as message

__all__ = ["admin", "admin_grpc", "broker", "broker_grpc", "message"]
