package events

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// Bus publishes events on a NATS connection.
type Bus struct {
	conn     *nats.Conn
	embedded *server.Server
	dropped  atomic.Int64
}

// Connect publishes on the NATS server at url. The connection keeps reconnecting
// forever and buffers what is published meanwhile (up to its reconnect buffer); a
// publish never waits for the server.
func Connect(url string, opts ...nats.Option) (*Bus, error) {
	opts = append([]nats.Option{
		nats.Name("stowage-operator"),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second),
	}, opts...)
	conn, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to the event bus at %s: %w", url, err)
	}
	return &Bus{conn: conn}, nil
}

// Embedded starts a NATS server inside the operator, listening on host:port, and
// publishes on it: events work with no setup. Subscribers reach it through the
// operator's pod (kubectl port-forward), so host is loopback by default.
func Embedded(host string, port int) (*Bus, error) {
	srv, err := server.NewServer(&server.Options{
		ServerName: "stowage-events",
		Host:       host,
		Port:       port,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("starting the embedded event bus: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("the embedded event bus did not start on %s:%d", host, port)
	}
	b, err := Connect(srv.ClientURL(), nats.InProcessServer(srv))
	if err != nil {
		srv.Shutdown()
		return nil, err
	}
	b.embedded = srv
	return b, nil
}

// URL is where subscribers connect.
func (b *Bus) URL() string { return b.conn.ConnectedUrl() }

// Publish sends the event; it never blocks on the server and never fails the caller.
func (b *Bus) Publish(e Event) {
	if b == nil {
		return
	}
	if err := b.conn.Publish(e.Subject, e.Marshal()); err != nil {
		b.dropped.Add(1)
	}
}

// Dropped is how many events could not be handed to the connection.
func (b *Bus) Dropped() int64 { return b.dropped.Load() }

// Close flushes what is buffered (briefly) and closes the connection and the embedded
// server.
func (b *Bus) Close() {
	if b == nil {
		return
	}
	_ = b.conn.FlushTimeout(2 * time.Second)
	b.conn.Close()
	if b.embedded != nil {
		b.embedded.Shutdown()
	}
}

func newID() string { return nuid.Next() }
