"""Faithful patches for AWS behaviours that moto lacks and the provider relies on.

Each extension lives in its own module with an ``apply()`` function that patches
moto in place. They must be applied before the server handles its first request.
``tests/emulator/README.md`` lists every extension: what AWS does, what moto does,
and what the patch changes.
"""

from . import (
    ecs_delete_cluster_in_use,
    ecs_update_cluster_settings,
    ecs_service_connect,
    kafka_cluster_lifecycle,
    kafka_connectivity,
    nat_gateway_client_token,
)

# Every extension, in the order they are applied.
EXTENSIONS = (
    nat_gateway_client_token,
    kafka_cluster_lifecycle,
    kafka_connectivity,
    ecs_update_cluster_settings,
    ecs_delete_cluster_in_use,
    ecs_service_connect,
)


def apply_all() -> list[str]:
    """Apply every extension and return their names, for the launcher to report."""
    applied = []
    for extension in EXTENSIONS:
        extension.apply()
        applied.append(extension.__name__.rsplit(".", 1)[-1])
    return applied
