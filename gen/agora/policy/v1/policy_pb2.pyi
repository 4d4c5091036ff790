from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor
RULE_FIELD_NUMBER: _ClassVar[int]
rule: _descriptor.FieldDescriptor
ROUTE_FIELD_NUMBER: _ClassVar[int]
route: _descriptor.FieldDescriptor

class Rule(_message.Message):
    __slots__ = ("public", "authenticated", "roles", "callers")
    PUBLIC_FIELD_NUMBER: _ClassVar[int]
    AUTHENTICATED_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    CALLERS_FIELD_NUMBER: _ClassVar[int]
    public: bool
    authenticated: bool
    roles: _containers.RepeatedScalarFieldContainer[str]
    callers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, public: _Optional[bool] = ..., authenticated: _Optional[bool] = ..., roles: _Optional[_Iterable[str]] = ..., callers: _Optional[_Iterable[str]] = ...) -> None: ...

class Route(_message.Message):
    __slots__ = ("timeout_ms", "requests_per_second", "burst")
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    BURST_FIELD_NUMBER: _ClassVar[int]
    timeout_ms: int
    requests_per_second: int
    burst: int
    def __init__(self, timeout_ms: _Optional[int] = ..., requests_per_second: _Optional[int] = ..., burst: _Optional[int] = ...) -> None: ...
