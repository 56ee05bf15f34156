// Package backup is the engine-independent half of Stowage's backups: where a backup
// is stored (a Target: a directory on a PVC, or an S3 bucket), how it is laid out (a
// directory of files and a manifest written last), how its files are compressed and
// checksummed, how a restore proves a backup whole before it touches anything, and
// which backups a schedule keeps. An engine contributes only how it dumps into a
// Writer and loads from a Reader.
//
// A backup is complete when its manifest exists: files are written first, each
// recorded with its stored size and SHA-256, then the manifest. A reader verifies
// every file against the manifest before the engine loads anything (Reader.Verify),
// and again while the engine reads it.
package backup
