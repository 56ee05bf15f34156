package controller

import (
	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/cluster"
)

// Profile is what the controllers need to know about an engine to run its jobs.
type Profile struct {
	// Engine describes the engine's clusters (Blueprint: names, ports, Secret).
	Engine cluster.Engine
	// PasswordKey is the credentials Secret's key of the account jobs use.
	PasswordKey string
	// Options are engine-specific endpoint options for the job (a MySQL flavor).
	Options func(c v1alpha1.Cluster) map[string]string
}
