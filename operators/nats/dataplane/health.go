package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Client talks to a cluster's system account.
type Client struct {
	conn *nats.Conn
}

// Connect authenticates as a system-account user at url (any member; a list with
// commas reaches whichever answers).
func Connect(url, user, password string) (*Client, error) {
	conn, err := nats.Connect(url, nats.UserInfo(user, password), nats.Name("stowage-operator"),
		nats.Timeout(2*time.Second), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond),
		// Members may all be starting: keep trying rather than fail the watcher.
		nats.RetryOnFailedConnect(true))
	if err != nil {
		return nil, fmt.Errorf("connecting to the system account: %w", err)
	}
	return &Client{conn: conn}, nil
}

// Close ends the connection.
func (c *Client) Close() { c.conn.Close() }

// Stream is one stream's replica set as the meta leader sees it.
type Stream struct {
	Account, Name string
	// Replicas is the stream's replication factor.
	Replicas int
	Leader   string
	// Peers are the servers holding a copy, the leader included.
	Peers []string
	// Lagging are peers that are offline or not current.
	Lagging []string
}

// Health is JetStream as the meta leader reports it.
type Health struct {
	MetaLeader string
	// Servers in the meta group, and which of them are offline or behind.
	Servers, Lagging []string
	Streams          []Stream
}

// Healthy: a meta leader, every server current, every stream with a leader and every
// replica current.
func (h Health) Healthy() bool {
	if h.MetaLeader == "" || len(h.Lagging) > 0 {
		return false
	}
	for _, s := range h.Streams {
		if s.Leader == "" || len(s.Lagging) > 0 || len(s.Peers) < s.Replicas {
			return false
		}
	}
	return true
}

// Health reads the meta group from its leader and every stream from the server
// leading it (the one with a current view of its replicas).
func (c *Client) Health(ctx context.Context) (Health, error) {
	leader, err := c.jsz(ctx, server.JSzOptions{LeaderOnly: true}, 1)
	if err != nil {
		return Health{}, err
	}
	h := metaOf(leader[0])
	if h.MetaLeader == "" {
		return h, nil
	}
	leaders, err := c.jsz(ctx, server.JSzOptions{Accounts: true, Streams: true, Config: true, StreamLeaderOnly: true}, len(h.Servers))
	if err != nil {
		return h, err
	}
	for _, js := range leaders {
		h.Streams = append(h.Streams, streamsOf(js)...)
	}
	slices.SortFunc(h.Streams, func(a, b Stream) int { return strings.Compare(a.Account+"/"+a.Name, b.Account+"/"+b.Name) })
	return h, nil
}

// jsz asks every server (or, with LeaderOnly, the meta leader) for its JetStream
// report and gathers up to want answers.
func (c *Client) jsz(ctx context.Context, opts server.JSzOptions, want int) ([]*server.JSInfo, error) {
	req, _ := json.Marshal(opts)
	answers, err := c.ping(ctx, "JSZ", req, want)
	if err != nil {
		return nil, fmt.Errorf("asking for JetStream's state: %w", err)
	}
	var out []*server.JSInfo
	for _, a := range answers {
		var resp server.ServerAPIJszResponse
		if err := json.Unmarshal(a, &resp); err != nil {
			continue
		}
		if resp.Error != nil {
			return nil, fmt.Errorf("JetStream's state: %s", resp.Error.Description)
		}
		if resp.Data != nil {
			out = append(out, resp.Data)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no server answered for JetStream's state: %w", ctx.Err())
	}
	return out, nil
}

// ping sends a request to every server ($SYS.REQ.SERVER.PING.<kind>) and gathers up
// to want answers, waiting at most a second after the first: a server that is down
// must not hold up the report of those that are up.
func (c *Client) ping(ctx context.Context, kind string, req []byte, want int) ([][]byte, error) {
	inbox := c.conn.NewRespInbox()
	sub, err := c.conn.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe() //nolint:errcheck // best effort
	if err := c.conn.PublishRequest("$SYS.REQ.SERVER.PING."+kind, inbox, req); err != nil {
		return nil, err
	}
	var out [][]byte
	wait := ctx
	for len(out) < want {
		msg, err := sub.NextMsgWithContext(wait)
		if err != nil {
			break
		}
		out = append(out, msg.Data)
		if len(out) == 1 {
			var cancel context.CancelFunc
			wait, cancel = context.WithTimeout(ctx, time.Second)
			defer cancel()
		}
	}
	return out, nil
}

// metaOf reads the meta group from the meta leader's report.
func metaOf(js *server.JSInfo) Health {
	h := Health{}
	if js == nil || js.Meta == nil || js.Meta.Leader == "" {
		return h
	}
	h.MetaLeader = js.Meta.Leader
	h.Servers = []string{js.Meta.Leader}
	for _, p := range js.Meta.Replicas {
		h.Servers = append(h.Servers, p.Name)
		if p.Offline || !p.Current {
			h.Lagging = append(h.Lagging, p.Name)
		}
	}
	slices.Sort(h.Servers)
	return h
}

// streamsOf reads the streams a server leads from its report.
func streamsOf(js *server.JSInfo) []Stream {
	var out []Stream
	for _, a := range js.AccountDetails {
		for _, sd := range a.Streams {
			s := Stream{Account: a.Name, Name: sd.Name}
			if sd.Config != nil {
				s.Replicas = sd.Config.Replicas
			}
			if ci := sd.Cluster; ci != nil {
				s.Leader = ci.Leader
				if ci.Leader != "" {
					s.Peers = append(s.Peers, ci.Leader)
				}
				for _, p := range ci.Replicas {
					if slices.Contains(s.Peers, p.Name) {
						continue
					}
					s.Peers = append(s.Peers, p.Name)
					if p.Offline || !p.Current {
						s.Lagging = append(s.Lagging, p.Name)
					}
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// RemoveServer takes a server that left for good out of the meta group, so that its
// streams' replicas are placed on the servers that remain.
func (c *Client) RemoveServer(ctx context.Context, name string) error {
	req, _ := json.Marshal(server.JSApiMetaServerRemoveRequest{Server: name})
	msg, err := c.conn.RequestWithContext(ctx, server.JSApiRemoveServer, req)
	if err != nil {
		return fmt.Errorf("removing %s from the meta group: %w", name, err)
	}
	var resp server.JSApiMetaServerRemoveResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return fmt.Errorf("removing %s from the meta group: %w", name, err)
	}
	if resp.Error != nil {
		return fmt.Errorf("removing %s from the meta group: %s", name, resp.Error.Description)
	}
	return nil
}
