// Package redisconf renders the redis.conf every member of a RedisCluster runs with.
package redisconf

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/operators/redis/dataplane"
	"github.com/stowage/stowage/pkg/workload"
)

// Where members listen and keep their data (the official image's locations).
const (
	Port     = 6379
	DataPath = "/data"
)

// AuthFile is written at start-up from the credentials Secret's environment variables
// and included by redis.conf, so the password is in neither the ConfigMap nor the
// command line.
var AuthFile = path.Join(workload.RunPath, "auth.conf")

// managedOptions are what replication, failover and persistence rely on; CRD
// validation keeps users from overriding them. Every member starts parked (a replica
// of an address where nothing listens): read-only and unable to feed other replicas
// until the data-plane manager promotes it or attaches it to the primary.
func managedOptions(p v1alpha1.RedisPersistence) map[string]string {
	appendOnly := p.AppendOnly == nil || *p.AppendOnly
	fsync := string(p.AppendFsync)
	if fsync == "" {
		fsync = "everysec"
	}
	save := "3600 1 300 100 60 10000"
	if p.RDBSave != nil {
		save = *p.RDBSave
	}
	return map[string]string{
		"port":                     strconv.Itoa(Port),
		"bind":                     "* -::*",
		"protected-mode":           "no",
		"dir":                      DataPath,
		"replicaof":                fmt.Sprintf("%s %d", dataplane.ParkedHost, dataplane.ParkedPort),
		"replica-read-only":        "yes",
		"replica-serve-stale-data": "yes",
		// Replicas hear from their primary every second, so the data-plane manager can
		// tell a hung or cut-off primary from their silence within seconds.
		"repl-ping-replica-period": "1",
		"appendonly":               yesNo(appendOnly),
		"appendfsync":              fsync,
		"save":                     save,
	}
}

// Render renders redis.conf: the user's parameters, the operator's options
// over them, and the credentials include last so nothing can override it.
func Render(p v1alpha1.RedisPersistence, parameters map[string]string) string {
	opts := maps.Clone(parameters)
	if opts == nil {
		opts = map[string]string{}
	}
	maps.Copy(opts, managedOptions(p))
	var b strings.Builder
	b.WriteString("# Rendered by the Stowage operator from the RedisCluster; edits here are overwritten.\n")
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		v := opts[k]
		if v == "" {
			v = `""`
		}
		b.WriteString(k + " " + v + "\n")
	}
	b.WriteString("include " + AuthFile + "\n")
	return b.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
