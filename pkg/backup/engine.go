package backup

import "context"

// Engine is what an engine contributes to backups: how to dump a member into a
// Writer and how to load a Reader into a cluster. Everything else — targets, layout,
// checksums, verification, the Job, status — is this package's.
type Engine interface {
	// Name is the engine's label value: mysql, redis or nats.
	Name() string
	// Dump writes a consistent backup of the member into w and returns the
	// replication position it is consistent at. It may add facts to w's manifest
	// (Writer.SetMeta) that Load needs.
	Dump(ctx context.Context, src Endpoint, w *Writer) (position string, err error)
	// Load restores a verified backup into the cluster through dst (its primary, or
	// any member of an engine without one). Without force it refuses a cluster that
	// holds data.
	Load(ctx context.Context, dst Endpoint, r *Reader, force bool) error
}

// Endpoint is a member as a backup or restore job reaches it.
type Endpoint struct {
	// Name of the member (its pod) and the address it is reached at (host:port).
	Name, Addr string
	// Password of the account the job uses: the operator's (MySQL), the server's
	// (Redis), the applications' (NATS).
	Password string
	// Options the engine needs (a MySQL flavor, the address a Redis restore source
	// is reached at from the member).
	Options map[string]string
	// Parallel is how many streams an engine may run at once.
	Parallel int
}
