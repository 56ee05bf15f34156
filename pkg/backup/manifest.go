package backup

import (
	"encoding/json"
	"fmt"
	"time"
)

// ManifestName is the manifest's file name inside a backup's directory.
const ManifestName = "manifest.json"

// formatVersion is the layout this package writes; a reader refuses newer ones.
const formatVersion = 1

// Manifest describes one backup: what it is of, where it stands in the engine's
// history, and every file with the checksum that proves it intact.
type Manifest struct {
	Format int `json:"format"`
	// Engine that made the backup (mysql, redis, nats) and the server version it read.
	Engine        string `json:"engine"`
	EngineVersion string `json:"engineVersion,omitempty"`
	// Cluster is namespace/name of the cluster backed up; Source the member read.
	Cluster string `json:"cluster"`
	Source  string `json:"source,omitempty"`
	// Position is the engine's replication position the backup is consistent at.
	Position    string      `json:"position,omitempty"`
	Compression Compression `json:"compression"`
	StartedAt   time.Time   `json:"startedAt"`
	CompletedAt time.Time   `json:"completedAt"`
	Files       []File      `json:"files"`
	// Meta holds engine-specific facts a restore needs (a MySQL flavor, a Redis RDB
	// version).
	Meta map[string]string `json:"meta,omitempty"`
}

// File is one stored file of a backup.
type File struct {
	// Name inside the backup's directory.
	Name string `json:"name"`
	// Size and SHA256 (hex) of the stored bytes, compressed as the manifest says.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// RawSize is the size before compression.
	RawSize int64 `json:"rawSize"`
}

// Bytes is what the backup occupies in its target, manifest aside.
func (m Manifest) Bytes() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// RawBytes is the backup's size before compression.
func (m Manifest) RawBytes() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.RawSize
	}
	return n
}

// File looks a file up by name.
func (m Manifest) File(name string) (File, bool) {
	for _, f := range m.Files {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

func parseManifest(data []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("%w: the manifest is not valid JSON: %v", ErrCorrupt, err)
	}
	if m.Format < 1 || m.Format > formatVersion {
		return Manifest{}, fmt.Errorf("%w: manifest format %d; this version reads up to %d", ErrCorrupt, m.Format, formatVersion)
	}
	if m.Engine == "" {
		return Manifest{}, fmt.Errorf("%w: the manifest names no engine", ErrCorrupt)
	}
	if _, err := m.Compression.codec(); err != nil {
		return Manifest{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return m, nil
}
