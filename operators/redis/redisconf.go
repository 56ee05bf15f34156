package redis

import (
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/workload"
)

// authFile is written at start-up from the credentials Secret's environment variables
// and included by redis.conf, so the password is in neither the ConfigMap nor the
// command line.
var authFile = path.Join(workload.RunPath, "auth.conf")

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
		"port":           strconv.Itoa(port),
		"bind":           "* -::*",
		"protected-mode": "no",
		"dir":            dataPath,
		"appendonly":     yesNo(appendOnly),
		"appendfsync":    fsync,
		"save":           save,
	}
}

// renderRedisConf renders redis.conf: the user's parameters, the operator's options
// over them, and the credentials include last so nothing can override it.
func renderRedisConf(p v1alpha1.RedisPersistence, parameters map[string]string) string {
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
	b.WriteString("include " + authFile + "\n")
	return b.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
