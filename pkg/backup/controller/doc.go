// Package controller runs Backup, BackupSchedule and Restore objects for every
// engine. A Backup becomes a Kubernetes Job running the operator's own image
// (`stowage-operator job`), which reads one member through the engine's
// backup.Engine and writes to the target; the controller picks the member (a ready
// replica unless the primary is asked for), builds the Job from pure functions, and
// turns the Job's outcome and its termination message into the Backup's status and
// Events. An engine takes part through a Profile.
package controller
