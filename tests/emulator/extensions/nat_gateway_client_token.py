"""EC2 CreateNatGateway honours ``ClientToken`` idempotency.

AWS: a client token makes CreateNatGateway idempotent within an account and region.
A retry with the same token and the same parameters creates nothing and returns the
gateway that the first request created (whatever its state is now), echoing the token
in the response. The same token with different parameters fails with
``IdempotentParameterMismatch``.

moto 5.2.5 ignores the token: a retry creates a second gateway, whose Elastic IP is
already associated, and fails with ``Resource.AlreadyAssociated``.

The patch remembers, per EC2 backend (one per account and region), each token with
a fingerprint of the request's other parameters and the gateway it created.
"""

import threading
from dataclasses import dataclass

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.responses.nat_gateways import NatGateways

# Request parameters that say nothing about the gateway being asked for.
_NOT_FINGERPRINTED = frozenset({"Action", "Version", "ClientToken"})

# Backends are reset by replacing their ``__dict__``, which drops this attribute
# with the rest of the backend's state, as a reset should.
_TOKENS_ATTRIBUTE = "_atlas_nat_gateway_client_tokens"

# Held across check-and-create so that two concurrent retries of one request
# cannot both create a gateway.
_lock = threading.Lock()


class IdempotentParameterMismatch(EC2ClientError):
    def __init__(self, client_token: str) -> None:
        super().__init__(
            "IdempotentParameterMismatch",
            f"The client token '{client_token}' was already used for a "
            "CreateNatGateway request with different parameters.",
        )


@dataclass(frozen=True)
class _FirstRequest:
    fingerprint: tuple
    nat_gateway_id: str


def _fingerprint(querystring: dict) -> tuple:
    return tuple(
        sorted(
            (name, tuple(values))
            for name, values in querystring.items()
            if name not in _NOT_FINGERPRINTED
        )
    )


def _tokens(backend: object) -> dict:
    tokens = backend.__dict__.get(_TOKENS_ATTRIBUTE)
    if tokens is None:
        tokens = {}
        setattr(backend, _TOKENS_ATTRIBUTE, tokens)
    return tokens


def apply() -> None:
    original = NatGateways.create_nat_gateway
    if getattr(original, "_atlas_extension", False):
        return

    def create_nat_gateway(self: NatGateways) -> ActionResult:
        client_token = self._get_param("ClientToken")
        if not client_token:
            return original(self)

        fingerprint = _fingerprint(self.querystring)
        with _lock:
            tokens = _tokens(self.ec2_backend)
            first = tokens.get(client_token)
            if first is not None:
                if first.fingerprint != fingerprint:
                    raise IdempotentParameterMismatch(client_token)
                # moto keeps deleted gateways (state "deleted"), as AWS shows them
                # for a while, so the first gateway is always there to return.
                nat_gateway = self.ec2_backend.nat_gateways[first.nat_gateway_id]
                return ActionResult({"ClientToken": client_token, "NatGateway": nat_gateway})

            result = original(self)
            nat_gateway = result.result["NatGateway"]
            tokens[client_token] = _FirstRequest(fingerprint, nat_gateway.id)
        return ActionResult({"ClientToken": client_token, "NatGateway": nat_gateway})

    create_nat_gateway._atlas_extension = True
    NatGateways.create_nat_gateway = create_nat_gateway
