package nats

import (
	"fmt"
	"strings"

	"github.com/stowage/stowage/pkg/workload"
)

// memberEnv is the environment a member's server process gets, as Kubernetes builds
// it from the pod spec: what the configuration's references resolve to on that
// member. The data plane needs it to know the config digest the member reports once
// it runs the configuration last written.
func memberEnv(bp workload.Blueprint, secrets SecretLookup, pod string) (map[string]string, error) {
	env := map[string]string{"POD_NAME": pod, "POD_NAMESPACE": bp.Namespace}
	for _, e := range bp.Container.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			data, err := secrets(ref.Name)
			if err != nil {
				return nil, err
			}
			v, ok := data[ref.Key]
			if !ok {
				return nil, fmt.Errorf("the Secret %s has no key %s", ref.Name, ref.Key)
			}
			env[e.Name] = string(v)
		case e.ValueFrom != nil:
			return nil, fmt.Errorf("environment variable %s: only Secret references are resolved", e.Name)
		default:
			env[e.Name] = expand(e.Value, env)
		}
	}
	return env, nil
}

// SecretLookup returns a Secret's data by name, in the cluster's namespace.
type SecretLookup func(name string) (map[string][]byte, error)

// expand replaces $(NAME) references to variables defined earlier, as the kubelet
// does.
func expand(value string, env map[string]string) string {
	for name, v := range env {
		value = strings.ReplaceAll(value, "$("+name+")", v)
	}
	return value
}
