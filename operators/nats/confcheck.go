package nats

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

// checkServerConf runs the configuration through nats-server's own parser and option
// processing — the nats-server/v2 module this operator is built with, the version its
// default image runs — so that a configuration the server would refuse is never
// written to the ConfigMap (where members would crash-loop on it at their next
// restart). Environment references are resolved to placeholders of the right shape.
func checkServerConf(conf block) error {
	text := conf.withPlaceholders().render()
	opts := &server.Options{}
	if err := opts.ProcessConfigString(text); err != nil {
		return fmt.Errorf("%w%s", err, quoteLines(err.Error(), text))
	}
	return nil
}

// lineRef is how the parser points into the file: ":<line>:<column>:".
var lineRef = regexp.MustCompile(`:(\d+):\d+:`)

// quoteLines names the lines an error points at, since some of nats-server's messages
// (a value of the wrong type) do not name the option. The text holds placeholders,
// never credentials.
func quoteLines(msg, text string) string {
	lines := strings.Split(text, "\n")
	var quoted []string
	for _, m := range lineRef.FindAllStringSubmatch(msg, -1) {
		n, _ := strconv.Atoi(m[1])
		if n >= 1 && n <= len(lines) {
			quoted = append(quoted, fmt.Sprintf("line %d: %s", n, strings.TrimSpace(lines[n-1])))
		}
	}
	if len(quoted) == 0 {
		return ""
	}
	return " (" + strings.Join(slices.Compact(quoted), "; ") + ")"
}

// withPlaceholders is a copy of b with every environment reference replaced by a
// value of the kind the server gets at run time.
func (b block) withPlaceholders() block {
	return b.substitute(func(v envRef) any {
		// URLs (routes, remotes) must look like URLs and differ from each other.
		if (strings.HasPrefix(string(v), "NATS_ROUTE_") && v != "NATS_ROUTE_PASSWORD") || strings.Contains(string(v), "_URL_") {
			return fmt.Sprintf("nats://placeholder:placeholder@%s.invalid:%d", strings.ToLower(string(v)), clusterPort)
		}
		return "placeholder"
	})
}

// substitute is a copy of b with every environment reference replaced by f's value
// for it (reloadable marks are dropped: the copy is for parsing, not for the file).
func (b block) substitute(f func(envRef) any) block {
	out := make(block, len(b))
	for i, e := range b {
		out[i] = entry{key: e.key, value: substituteValue(e.value, f)}
	}
	return out
}

func substituteValue(v any, f func(envRef) any) any {
	switch v := v.(type) {
	case reloadable:
		return substituteValue(v.value, f)
	case envRef:
		return f(v)
	case block:
		return v.substitute(f)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = substituteValue(x, f)
		}
		return out
	default:
		return v
	}
}
