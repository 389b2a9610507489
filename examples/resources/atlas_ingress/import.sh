# The load balancer ARN.
terraform import atlas_ingress.this arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/atlas-staging/50dc6c495c0c9188
