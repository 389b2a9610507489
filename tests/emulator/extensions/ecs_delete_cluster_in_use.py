"""ECS DeleteCluster refuses a cluster that still has services.

AWS: ``DeleteCluster`` of a cluster that still contains an ``ACTIVE`` or ``DRAINING``
service fails with ``ClusterContainsServicesException`` (HTTP 400, "The Cluster cannot
be deleted while Services are active."); the services must be scaled to zero and deleted
first. Services already ``INACTIVE`` do not count.

moto 5.2.5 marks the cluster ``INACTIVE`` whatever it contains, so the provider's
"still has services" diagnostic cannot be exercised.

The patch checks the backend's services of the cluster before moto's own delete.
"""

from moto.ecs.exceptions import ECSException
from moto.ecs.models import EC2ContainerServiceBackend


class ClusterContainsServicesException(ECSException):
    def __init__(self) -> None:
        super().__init__(
            "ClusterContainsServicesException",
            "The Cluster cannot be deleted while Services are active.",
        )


def apply() -> None:
    original = EC2ContainerServiceBackend.delete_cluster
    if getattr(original, "_atlas_extension", False):
        return

    def delete_cluster(self: EC2ContainerServiceBackend, cluster_str: str):
        cluster = self._get_cluster(cluster_str)
        for service in self.services.values():
            if service.cluster_arn == cluster.arn and service.status in ("ACTIVE", "DRAINING"):
                raise ClusterContainsServicesException()
        return original(self, cluster_str)

    delete_cluster._atlas_extension = True
    EC2ContainerServiceBackend.delete_cluster = delete_cluster
