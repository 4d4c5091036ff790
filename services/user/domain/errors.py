"""The user service's domain errors, each with a stable ``reason`` (AIP-193 ``ErrorInfo``).

They derive from ``pkg.errors``, whose base decides the gRPC status code; the server's
error interceptor does the mapping, so nothing here knows about gRPC.  A bad field of a
request is ``pkg.errors.InvalidField``, re-exported by ``services.user.domain``.
"""

from __future__ import annotations

from agora.user.v1.reasons import UserReason
from pkg.errors import Aborted, AlreadyExists, FailedPrecondition, NotFound, PermissionDenied


class UserNotFound(NotFound):
    """No user has the given id (NOT_FOUND)."""

    reason = UserReason.USER_NOT_FOUND

    def __init__(self, user_id: object) -> None:
        super().__init__(f"user {user_id} does not exist", metadata={"user": str(user_id)})


class EmailTaken(AlreadyExists):
    """Another user already has this email address, regardless of case (ALREADY_EXISTS)."""

    reason = UserReason.EMAIL_TAKEN

    def __init__(self) -> None:
        super().__init__("a user with this email address exists already")


class EtagMismatch(Aborted):
    """The request's etag is not the user's current one (ABORTED, AIP-154)."""

    reason = UserReason.ETAG_MISMATCH

    def __init__(self, current: str) -> None:
        super().__init__(
            "the user was changed since it was read; read it again", metadata={"etag": current}
        )


class NotAllowed(PermissionDenied):
    """The caller is authenticated but may not do this to this user (PERMISSION_DENIED)."""

    reason = UserReason.NOT_ALLOWED


class AccountDisabled(PermissionDenied):
    """The account is disabled: its credentials are correct but it may not log in
    (PERMISSION_DENIED).  Only said after the password verified, so it reveals nothing to
    someone without the password."""

    reason = UserReason.USER_DISABLED

    def __init__(self) -> None:
        super().__init__("this account is disabled")


class SelfLockout(FailedPrecondition):
    """An admin tried to disable their own account or take their own admin role
    (FAILED_PRECONDITION): the platform could be left without an admin."""

    reason = UserReason.SELF_LOCKOUT

    def __init__(self, what: str) -> None:
        super().__init__(f"an admin cannot {what}")
