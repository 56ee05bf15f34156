package dbtest

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// process is one server process a test can stop, kill and start again.
type process struct {
	cmd  *exec.Cmd
	done chan error // closed when the process has exited
	// env is added to the test's environment.
	env []string
}

// launch starts the command; the process dies with the test binary.
func (p *process) launch(name string, args ...string) error {
	p.cmd = exec.Command(name, args...)
	if len(p.env) > 0 {
		p.cmd.Env = append(os.Environ(), p.env...)
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	// done closes once the process has exited: a closed channel, not a value, so
	// that any number of waiters (and Running) see it.
	p.done = make(chan error)
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	return nil
}

// Running reports whether the process is alive.
func (p *process) Running() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Kill ends the server with SIGKILL, as a crashed node would.
func (p *process) Kill() { p.signal(syscall.SIGKILL) }

// Stop shuts the server down cleanly.
func (p *process) Stop() { p.signal(syscall.SIGTERM) }

// Freeze stops the process without ending it (SIGSTOP), as a hung server or a
// partitioned node looks from outside; Thaw resumes it.
func (p *process) Freeze() { _ = p.cmd.Process.Signal(syscall.SIGSTOP) }

// Thaw resumes a frozen process.
func (p *process) Thaw() { _ = p.cmd.Process.Signal(syscall.SIGCONT) }

func (p *process) signal(sig syscall.Signal) {
	if !p.Running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
