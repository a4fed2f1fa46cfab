// Package dynalite runs dynalite, the npm DynamoDB implementation on
// LevelDB, as a child process of the local stack or of a test.
package dynalite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is a running dynalite.
type Process struct {
	URL  string
	cmd  *exec.Cmd
	done chan error
}

// Options configures Start.
type Options struct {
	// Script is dynalite's cli.js; see FindScript.
	Script string
	// Dir holds the data; empty keeps it in memory.
	Dir string
	// Port to listen on; 0 picks a free one.
	Port int
	// Log receives dynalite's output; nil discards it.
	Log io.Writer
}

// FindScript returns node_modules/dynalite/cli.js in dir or the nearest
// parent that has it, or an error telling how to install it.
func FindScript(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "node_modules", "dynalite", "cli.js")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("dynalite not found above %s: run `npm ci` at the repository root (make does)", dir)
		}
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start launches dynalite and returns once it answers, or an error with its
// output if it exits or does not answer within ctx.
func Start(ctx context.Context, opts Options) (*Process, error) {
	port := opts.Port
	if port == 0 {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	// Tables become ACTIVE at once: the local stack does not simulate
	// provisioning delays.
	args := []string{opts.Script, "--port", strconv.Itoa(port), "--host", "127.0.0.1",
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("dynalite data %s: %w", opts.Dir, err)
		}
		args = append(args, "--path", opts.Dir)
	}
	var out strings.Builder
	cmd := exec.Command("node", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if opts.Log != nil {
		cmd.Stdout, cmd.Stderr = io.MultiWriter(opts.Log, &out), io.MultiWriter(opts.Log, &out)
	} else {
		cmd.Stdout, cmd.Stderr = &out, &out
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	p := &Process{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	if err := p.waitReady(ctx); err != nil {
		p.Stop()
		return nil, fmt.Errorf("dynalite on port %d: %w (output: %s)", port, err, out.String())
	}
	return p, nil
}

// waitReady polls until dynalite answers HTTP, with a growing interval.
func (p *Process) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for delay := 10 * time.Millisecond; ; delay = min(delay*2, 200*time.Millisecond) {
		resp, err := client.Get(p.URL)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case err := <-p.done:
			t.Stop()
			p.done <- err
			return fmt.Errorf("exited: %v", err)
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Stop ends dynalite and waits for it.
func (p *Process) Stop() {
	if p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// ErrNotRunning is returned for a process that has exited.
var ErrNotRunning = errors.New("dynalite is not running")
