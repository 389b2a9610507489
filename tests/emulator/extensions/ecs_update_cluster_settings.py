"""ECS UpdateClusterSettings changes a cluster's settings.

AWS: ``UpdateClusterSettings`` takes a cluster (name or ARN) and a list of settings
(today only ``containerInsights``, with ``enabled``, ``disabled`` or ``enhanced``), sets
each named setting on the cluster, leaves the others as they are, and answers with the
whole cluster, settings included. An unknown cluster fails with
``ClusterNotFoundException``.

moto 5.2.5 does not implement the action: the server answers HTTP 500
(``NotImplementedError``). Its ``UpdateCluster`` does store ``settings``.

The patch adds the action to moto's ECS responses, setting the named settings on the
stored cluster.
"""

from moto.core.responses import ActionResult
from moto.ecs.responses import EC2ContainerServiceResponse


def apply() -> None:
    if getattr(EC2ContainerServiceResponse, "update_cluster_settings", None) is not None:
        return

    def update_cluster_settings(self: EC2ContainerServiceResponse) -> ActionResult:
        cluster = self.ecs_backend._get_cluster(self._get_param("cluster"))
        wanted = self._get_param("settings") or []
        settings = [dict(setting) for setting in (cluster.settings or [])]
        for setting in wanted:
            for current in settings:
                if current.get("name") == setting.get("name"):
                    current["value"] = setting.get("value")
                    break
            else:
                settings.append({"name": setting.get("name"), "value": setting.get("value")})
        cluster.settings = settings
        return ActionResult({"cluster": cluster})

    EC2ContainerServiceResponse.update_cluster_settings = update_cluster_settings
