package nats

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The NATS configuration format is rendered from typed values rather than a text
// template, so that quoting is always right and environment references ($NAME), which
// nats-server resolves at start-up, stay distinguishable from strings.

// block is an ordered set of key/value pairs: a whole file or a { } section.
type block []entry

type entry struct {
	key   string
	value any // string, int64, bool, envRef, []any, block or reloadable
}

// reloadable marks a value a running server takes by a configuration reload. It is
// rendered as its value; restartPart leaves it out.
type reloadable struct{ value any }

// restartPart is b without its reloadable entries: what only a restart applies.
func (b block) restartPart() block {
	out := make(block, 0, len(b))
	for _, e := range b {
		switch v := e.value.(type) {
		case reloadable:
			continue
		case block:
			out = append(out, entry{e.key, v.restartPart()})
		default:
			out = append(out, e)
		}
	}
	return out
}

// envRef is a reference to an environment variable of the server process. Secrets
// reach the configuration this way, so the ConfigMap never holds them.
type envRef string

func (b block) render() string {
	var sb strings.Builder
	b.write(&sb, 0)
	return sb.String()
}

func (b block) write(sb *strings.Builder, depth int) {
	indent := strings.Repeat("  ", depth)
	for _, e := range b {
		if r, ok := e.value.(reloadable); ok {
			e.value = r.value
		}
		sb.WriteString(indent + e.key)
		if inner, ok := e.value.(block); ok {
			sb.WriteString(" {\n")
			inner.write(sb, depth+1)
			sb.WriteString(indent + "}\n")
			continue
		}
		sb.WriteString(": " + renderValue(e.value) + "\n")
	}
}

func renderValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case envRef:
		return "$" + string(v)
	case reloadable:
		return renderValue(v.value)
	case block: // inline, as a list element: {k: v, …}
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = e.key + ": " + renderValue(e.value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = renderValue(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		panic(fmt.Sprintf("natsconf: cannot render %T", v))
	}
}

// parameterValue turns a user's parameter into a typed value: numbers and booleans
// stay bare, everything else is a quoted string.
func parameterValue(s string) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	if b, err := strconv.ParseBool(s); err == nil && (s == "true" || s == "false") {
		return b
	}
	return s
}

// parameterEntries are the user's parameters in key order; those a server takes by a
// reload are marked so.
func parameterEntries(params map[string]string, isReloadable func(string) bool) block {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(block, 0, len(keys))
	for _, k := range keys {
		var v any = parameterValue(params[k])
		if isReloadable(k) {
			v = reloadable{v}
		}
		out = append(out, entry{k, v})
	}
	return out
}

// reloadableParameters are the top-level options nats-server applies on a reload
// (server/reload.go's diffOptions accepts a change of them); a change of any other
// parameter restarts the members.
var reloadableParameters = map[string]bool{
	"debug": true, "trace": true, "trace_verbose": true, "logtime": true, "logtime_utc": true,
	"syslog": true, "remote_syslog": true,
	"max_connections": true, "max_conn": true, "max_control_line": true, "max_payload": true,
	"ping_interval": true, "ping_max": true, "write_deadline": true,
	"server_tags": true, "server_metadata": true,
	"connect_error_reports": true, "reconnect_error_reports": true, "max_traced_msg_len": true,
	"no_fast_producer_stall": true,
}

func reloadableParameter(key string) bool { return reloadableParameters[key] }
