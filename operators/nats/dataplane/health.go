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
func Connect(url, user, password string, extra ...nats.Option) (*Client, error) {
	opts := append([]nats.Option{nats.UserInfo(user, password), nats.Name("stowage-operator"),
		nats.Timeout(2 * time.Second), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		// Members may all be starting: keep trying rather than fail the watcher.
		nats.RetryOnFailedConnect(true),
		// A hung or cut-off server keeps its TCP connection open: without frequent
		// pings the watcher would wait on it for minutes instead of moving to another.
		nats.PingInterval(2 * time.Second), nats.MaxPingsOutstanding(2)}, extra...)
	conn, err := nats.Connect(url, opts...)
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
	// Consumers counts the stream's consumers; ConsumersBehind names those without a
	// leader or with a replica offline or not current.
	Consumers       int
	ConsumersBehind []string
}

// Health is JetStream as the meta leader reports it.
type Health struct {
	MetaLeader string
	// Servers in the meta group, and which of them are offline or behind.
	Servers, Lagging []string
	Streams          []Stream
}

// Healthy: a meta leader, every server current, every stream and consumer with a
// leader and every replica of them current.
func (h Health) Healthy() bool {
	if h.MetaLeader == "" || len(h.Lagging) > 0 {
		return false
	}
	for _, s := range h.Streams {
		if s.Leader == "" || len(s.Lagging) > 0 || len(s.Peers) < s.Replicas || len(s.ConsumersBehind) > 0 {
			return false
		}
	}
	return true
}

// Health reads the meta group from its leader, and every stream and consumer from
// the server leading it: only a Raft group's leader knows whether its followers are
// current.
func (c *Client) Health(ctx context.Context) (Health, error) {
	leader, err := c.jsz(ctx, server.JSzOptions{LeaderOnly: true}, 1)
	if err != nil {
		return Health{}, err
	}
	h := metaOf(leader[0].info)
	if leader[0].info.Meta == nil {
		// A lone server (a cluster of one) has no meta group: it is its own.
		h = Health{MetaLeader: leader[0].server, Servers: []string{leader[0].server}}
	}
	if h.MetaLeader == "" {
		return h, nil
	}
	all, err := c.jsz(ctx, server.JSzOptions{Accounts: true, Streams: true, Consumer: true, Config: true}, len(h.Servers))
	if err != nil {
		return h, err
	}
	h.Streams = streamsOf(all)
	return h, nil
}

// answer is one server's JetStream report.
type answer struct {
	server string
	info   *server.JSInfo
}

// jsz asks every server (or, with LeaderOnly, the meta leader) for its JetStream
// report and gathers up to want answers.
func (c *Client) jsz(ctx context.Context, opts server.JSzOptions, want int) ([]answer, error) {
	req, _ := json.Marshal(opts)
	answers, err := c.ping(ctx, "JSZ", req, want)
	if err != nil {
		return nil, fmt.Errorf("asking for JetStream's state: %w", err)
	}
	var out []answer
	for _, a := range answers {
		var resp server.ServerAPIJszResponse
		if err := json.Unmarshal(a, &resp); err != nil {
			continue
		}
		if resp.Error != nil {
			return nil, fmt.Errorf("JetStream's state: %s", resp.Error.Description)
		}
		if resp.Data != nil && resp.Server != nil {
			out = append(out, answer{server: resp.Server.Name, info: resp.Data})
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

// streamsOf reads every stream from the report of the server leading it, and every
// consumer from the report of the server leading that.
func streamsOf(answers []answer) []Stream {
	type key struct{ account, stream string }
	streams := map[key]*Stream{}
	var order []key
	stream := func(k key) *Stream {
		if s, ok := streams[k]; ok {
			return s
		}
		streams[k] = &Stream{Account: k.account, Name: k.stream}
		order = append(order, k)
		return streams[k]
	}
	consumers := map[key]map[string]bool{} // consumer name → current, as its leader reports
	for _, a := range answers {
		for _, acc := range a.info.AccountDetails {
			for _, sd := range acc.Streams {
				k := key{acc.Name, sd.Name}
				s := stream(k)
				if ci := sd.Cluster; ci != nil && ci.Leader == a.server {
					*s = leaderView(k.account, sd)
				}
				if consumers[k] == nil {
					consumers[k] = map[string]bool{}
				}
				for _, con := range sd.Consumer {
					if con == nil {
						continue
					}
					if _, seen := consumers[k][con.Name]; !seen {
						consumers[k][con.Name] = false // until its leader says otherwise
					}
					switch {
					case con.Cluster == nil: // a lone server's consumer has no replicas
						consumers[k][con.Name] = true
					case con.Cluster.Leader == a.server:
						consumers[k][con.Name] = len(laggingOf(con.Cluster)) == 0
					}
				}
			}
		}
	}
	out := make([]Stream, 0, len(order))
	for _, k := range order {
		s := streams[k]
		s.Consumers = len(consumers[k])
		for name, current := range consumers[k] {
			if !current {
				s.ConsumersBehind = append(s.ConsumersBehind, name)
			}
		}
		slices.Sort(s.ConsumersBehind)
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Stream) int { return strings.Compare(a.Account+"/"+a.Name, b.Account+"/"+b.Name) })
	return out
}

// leaderView is a stream's replica set as the server leading it reports it.
func leaderView(account string, sd server.StreamDetail) Stream {
	s := Stream{Account: account, Name: sd.Name}
	if sd.Config != nil {
		s.Replicas = sd.Config.Replicas
	}
	if ci := sd.Cluster; ci != nil {
		s.Leader = ci.Leader
		if ci.Leader != "" {
			s.Peers = append(s.Peers, ci.Leader)
		}
		for _, p := range ci.Replicas {
			if !slices.Contains(s.Peers, p.Name) {
				s.Peers = append(s.Peers, p.Name)
			}
		}
		s.Lagging = laggingOf(ci)
	}
	return s
}

// laggingOf names the replicas of a Raft group that are offline or not current.
func laggingOf(ci *server.ClusterInfo) []string {
	var out []string
	for _, p := range ci.Replicas {
		if p.Offline || !p.Current {
			out = append(out, p.Name)
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
