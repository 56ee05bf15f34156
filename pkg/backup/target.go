package backup

import (
	"context"
	"errors"
	"io"
)

// Target stores backups: a directory tree of named objects. Names use "/" and are
// relative to the target's root (a PVC path, or a bucket prefix).
type Target interface {
	// Put stores r under name, replacing what was there. An object appears whole
	// or not at all.
	Put(ctx context.Context, name string, r io.Reader) error
	// Get opens a stored object; ErrNotExist when there is none.
	Get(ctx context.Context, name string) (io.ReadCloser, error)
	// List names every object under prefix (recursively), sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes every object under prefix.
	Delete(ctx context.Context, prefix string) error
	// String says where the target is, for status and errors (never credentials).
	String() string
}

// ErrNotExist: no object by that name.
var ErrNotExist = errors.New("no such object in the target")
