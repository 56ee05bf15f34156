package backup

import "errors"

var (
	// ErrCorrupt: a stored file does not match its manifest (size or checksum), or
	// the manifest itself is unreadable. Nothing may be restored from the backup.
	ErrCorrupt = errors.New("backup is corrupt")
	// ErrIncomplete: the backup has no manifest (it never finished) or lacks a file
	// its manifest lists.
	ErrIncomplete = errors.New("backup is incomplete")
)
