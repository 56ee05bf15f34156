package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerConfig is what a server reports of the configuration it runs.
type ServerConfig struct {
	Name, ID string
	// Digest is the server's config_digest: see the engine's configDigest.
	Digest   string
	LoadedAt time.Time
}

// Configs asks every server which configuration it runs, gathering up to want
// answers.
func (c *Client) Configs(ctx context.Context, want int) ([]ServerConfig, error) {
	answers, err := c.ping(ctx, "VARZ", nil, want)
	if err != nil {
		return nil, fmt.Errorf("asking for the servers' configuration: %w", err)
	}
	var out []ServerConfig
	for _, a := range answers {
		var resp server.ServerAPIVarzResponse
		if err := json.Unmarshal(a, &resp); err != nil || resp.Data == nil || resp.Server == nil {
			continue
		}
		out = append(out, ServerConfig{Name: resp.Server.Name, ID: resp.Server.ID,
			Digest: resp.Data.ConfigDigest, LoadedAt: resp.Data.ConfigLoadTime})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no server answered for its configuration: %w", ctx.Err())
	}
	return out, nil
}

// Reload asks the server with the given ID to read its configuration file again. A
// change it cannot apply without a restart is refused as a whole, with the server's
// reason.
func (c *Client) Reload(ctx context.Context, id string) error {
	msg, err := c.conn.RequestWithContext(ctx, fmt.Sprintf("$SYS.REQ.SERVER.%s.RELOAD", id), nil)
	if err != nil {
		return fmt.Errorf("asking server %s to reload: %w", id, err)
	}
	var resp server.ServerAPIResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return fmt.Errorf("reading server %s's answer to reload: %w", id, err)
	}
	if resp.Error != nil {
		return fmt.Errorf("server %s refused to reload: %s", id, resp.Error.Description)
	}
	return nil
}
