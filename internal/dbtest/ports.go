package dbtest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"testing"
)

// FreePort is a loopback port nothing listens on right now, drawn below the kernel's
// ephemeral range. A port the kernel hands out for ":0" is one it may hand out again
// as the source port of an outgoing connection before the server binds it: a
// nats-server's route dialling its peers took the cluster port of a server not yet
// started ("bind: address already in use").
func FreePort(t *testing.T) int {
	t.Helper()
	low := ephemeralLow()
	for range 100 {
		port := 10000 + rand.IntN(low-10000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue // in use
		}
		l.Close()
		return port
	}
	t.Fatalf("no free loopback port in [10000, %d)", low)
	return 0
}

// ephemeralLow is the lowest port the kernel picks for outgoing connections and ":0".
func ephemeralLow() int {
	low := 32768 // Linux's default
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var l, h int
		if n, _ := fmt.Sscan(string(b), &l, &h); n == 2 && l > 11000 {
			low = l
		}
	}
	return low
}
