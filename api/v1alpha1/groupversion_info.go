// Package v1alpha1 holds the stowage.dev/v1alpha1 API: one cluster kind per engine
// (MySQLCluster, RedisCluster, NATSCluster) and the engine-neutral Backup, BackupSchedule
// and Restore kinds.
//
// +kubebuilder:object:generate=true
// +groupName=stowage.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every Stowage kind.
	GroupVersion = schema.GroupVersion{Group: "stowage.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the Stowage kinds with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the Stowage kinds to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
