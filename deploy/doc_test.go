// Package deploy holds the tests of the deployment files beside them: the
// Kubernetes manifests and the compose file load, reference what exists,
// and agree with the configuration and the generated rules.
package deploy
