// Package render lists the container images a Helm chart deploys, by rendering the
// chart archive as `helm template` does, with Helm's own engine (helm.sh/helm/v4):
// the chart's values with the given values files merged over them, a fixed release
// name and namespace, the Kubernetes version as Capabilities, subcharts enabled or
// dropped by their conditions and tags and renamed by their aliases.
//
// From the rendered manifests it takes the images of pod specs (Pod, Deployment,
// ReplicaSet, StatefulSet, DaemonSet, Job, CronJob: containers, initContainers and
// ephemeralContainers), then every other scalar "image:" value (custom resources whose
// operators start pods), skipping test hooks ("helm.sh/hook: test") unless asked; then
// the images the Chart.yaml annotations artifacthub.io/images and helm.sh/images list,
// of the chart and of every subchart that renders. References are normalised as the oci
// package writes them ("nginx" is docker.io/library/nginx:latest).
//
// Only this package imports Helm (a test in the module root keeps it so): packages that
// do not render charts stay free of its dependency tree (client-go, the kube API types).
package render
