package dataplane

import (
	"strconv"
	"strings"
)

// info is one INFO section as key → value.
type info map[string]string

// parseInfo reads the text INFO returns: "# Section" headers, "key:value" lines.
func parseInfo(text string) info {
	out := info{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

func (i info) int(key string) int64 {
	n, _ := strconv.ParseInt(i[key], 10, 64)
	return n
}
