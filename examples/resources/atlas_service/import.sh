# <cluster name>/<service name>.
terraform import atlas_service.scoring atlas-staging/scoring
