"""ECS services keep their Service Connect configuration, on their deployments.

AWS: CreateService and UpdateService take ``serviceConnectConfiguration`` (``enabled``,
``namespace``, ``services[]`` with ``portName``, ``discoveryName``, ``clientAliases[]``
and ``timeout``, ``logConfiguration``). AWS does not return it at the top of the
service: it belongs to a deployment, and DescribeServices (like the CreateService and
UpdateService answers) shows it as ``deployments[].serviceConnectConfiguration``. When
the namespace is left out, the cluster's ``serviceConnectDefaults.namespace`` is used.
An UpdateService that changes the task definition, the network configuration, the load
balancers or the Service Connect configuration (to something other than what the
service has), or that forces a new deployment, starts a new ``PRIMARY`` deployment
carrying the new settings; the previous one turns
``ACTIVE`` while it drains. An UpdateService without ``serviceConnectConfiguration``
keeps the current one.

CreateService also keeps ``deploymentConfiguration`` (such as the deployment circuit
breaker) and returns it on the service.

moto 5.2.5 drops both parameters of CreateService: they are neither stored nor returned
(UpdateService happens to keep ``deploymentConfiguration``), and UpdateService never
starts a new deployment (it changes the one it has in place).

The patch stores the configuration on the PRIMARY deployment at creation, and on
UpdateService with one of the changes above starts a new PRIMARY deployment (a new id,
the service's task definition and network configuration, the new or carried-over
Service Connect configuration), turning the previous PRIMARY ``ACTIVE`` and dropping
older ``ACTIVE`` ones, as their draining would. No task runs here, so a drained
deployment is never modelled beyond that.
"""

import copy

from moto.core.utils import utcnow
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random



def _with_default_namespace(configuration: dict, backend: object, cluster: str) -> dict:
    configuration = copy.deepcopy(configuration)
    if configuration.get("enabled") and not configuration.get("namespace"):
        defaults = backend._get_cluster(cluster).service_connect_defaults or {}
        if defaults.get("namespace"):
            configuration["namespace"] = defaults["namespace"]
    return configuration


def _settings(backend: object, cluster: str, service_name: str | None) -> dict:
    """The settings of a service that start a new deployment when an update changes them."""
    try:
        service = backend._get_service(cluster, (service_name or "").split("/")[-1])
    except Exception:  # the update itself reports the missing service
        return {}
    primary = _primary(service) or {}
    return {
        "taskDefinition": service.task_definition,
        "networkConfiguration": copy.deepcopy(service.network_configuration) or None,
        "loadBalancers": copy.deepcopy(service.load_balancers),
        "serviceConnectConfiguration": copy.deepcopy(
            primary.get("serviceConnectConfiguration")
        ),
    }


def _primary(service: object) -> dict | None:
    for deployment in service.deployments:
        if deployment.get("status") == "PRIMARY":
            return deployment
    return None


def apply() -> None:
    original_create = EC2ContainerServiceResponse.create_service
    if getattr(original_create, "_atlas_extension", False):
        return
    original_update = EC2ContainerServiceResponse.update_service

    def create_service(self: EC2ContainerServiceResponse):
        result = original_create(self)
        configuration = self._get_param("serviceConnectConfiguration")
        service = result.result["service"]
        deployment_configuration = self._get_param("deploymentConfiguration")
        if deployment_configuration is not None:
            service.deployment_configuration = deployment_configuration
        primary = _primary(service)
        if configuration is not None and primary is not None:
            cluster = self._get_param("cluster", "default")
            primary["serviceConnectConfiguration"] = _with_default_namespace(
                configuration, self.ecs_backend, cluster
            )
        return result

    def update_service(self: EC2ContainerServiceResponse):
        configuration = self._get_param("serviceConnectConfiguration")
        cluster = self._get_param("cluster", "default")
        if configuration is not None:
            configuration = _with_default_namespace(configuration, self.ecs_backend, cluster)
        before = _settings(self.ecs_backend, cluster, self._get_param("service"))
        result = original_update(self)
        service = result.result["service"]
        # moto copies every parameter onto the service; this one is kept on deployments.
        service.__dict__.pop("service_connect_configuration", None)
        previous = _primary(service)
        if previous is None:
            return result
        asked = {
            "taskDefinition": self._get_param("taskDefinition") and service.task_definition,
            "networkConfiguration": self._get_param("networkConfiguration"),
            "loadBalancers": self._get_param("loadBalancers"),
            "serviceConnectConfiguration": configuration,
        }
        changed = any(
            value is not None and value != before.get(name) for name, value in asked.items()
        )
        if not changed and not self._get_param("forceNewDeployment"):
            return result

        deployment = copy.deepcopy(previous)
        now = utcnow()
        deployment["id"] = f"ecs-svc/{mock_random.randint(0, 32**12)}"
        deployment["createdAt"] = now
        deployment["updatedAt"] = now
        deployment["taskDefinition"] = service.task_definition
        deployment["desiredCount"] = service.desired_count
        deployment["runningCount"] = service.running_count
        deployment["pendingCount"] = max(service.desired_count - service.running_count, 0)
        if service.network_configuration:
            deployment["networkConfiguration"] = service.network_configuration
        completed = service.running_count >= service.desired_count
        deployment["rolloutState"] = "COMPLETED" if completed else "IN_PROGRESS"
        deployment["rolloutStateReason"] = (
            f"ECS deployment {deployment['id']} "
            + ("completed." if completed else "in progress.")
        )
        if configuration is not None:
            deployment["serviceConnectConfiguration"] = configuration

        previous["status"] = "ACTIVE"
        previous["updatedAt"] = now
        service.deployments = [deployment, previous]
        return result

    create_service._atlas_extension = True
    EC2ContainerServiceResponse.create_service = create_service
    EC2ContainerServiceResponse.update_service = update_service
