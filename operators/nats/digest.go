package nats

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nats-io/nats-server/v2/conf"
)

// configDigest is the digest a nats-server reports as config_digest (VARZ) after it
// loaded conf with the given environment: the SHA-256 of the JSON of the parsed
// configuration, environment references resolved. The data plane compares it with
// what each server reports to know whether that server runs the configuration the
// operator last wrote, without reading the file in the pod.
//
// The server resolves a reference by parsing "pk=<value>" on its own, so a value is
// typed as the parser types it (a password of digits is a number). The same is done
// here: the references are parsed as unique strings, then replaced by their values
// parsed that way.
func configDigest(c block, env map[string]string) (string, error) {
	const sentinel = "__stowage_env__"
	text := c.substitute(func(v envRef) any { return sentinel + string(v) }).render()
	parsed, err := conf.Parse(text)
	if err != nil {
		return "", fmt.Errorf("parsing the configuration: %w", err)
	}
	var missing error
	resolved := resolve(parsed, func(s string) any {
		name, ok := strings.CutPrefix(s, sentinel)
		if !ok {
			return s
		}
		value, ok := env[name]
		if !ok {
			missing = fmt.Errorf("variable %s is not in the environment", name)
			return s
		}
		m, err := conf.Parse("pk=" + value)
		if err != nil {
			missing = fmt.Errorf("variable %s: %w", name, err)
			return s
		}
		return m["pk"]
	})
	if missing != nil {
		return "", missing
	}
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(resolved); err != nil {
		return "", err
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil)), nil
}

// resolve replaces every string in a parsed configuration by f's value for it.
func resolve(v any, f func(string) any) any {
	switch v := v.(type) {
	case string:
		return f(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = resolve(x, f)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = resolve(x, f)
		}
		return out
	default:
		return v
	}
}
