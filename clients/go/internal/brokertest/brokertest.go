// Package brokertest starts a real Sluice broker for tests: the node process
// from the repository root, on 127.0.0.1 with an OS-chosen port and a fresh
// temporary data directory.
package brokertest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StartTimeout bounds how long Start waits for the listening line.
const StartTimeout = 60 * time.Second

// Broker is a running broker process.
type Broker struct {
	// Addr is host:port of the broker.
	Addr string

	cmd     *exec.Cmd
	dataDir string
	exited  chan struct{}
	mu      sync.Mutex
	log     bytes.Buffer // stdout and stderr, for failure reports
}

// RepoRoot finds the repository root: the nearest parent of the working
// directory holding src/main.ts, or $SLUICE_REPO_ROOT.
func RepoRoot() (string, error) {
	if root := os.Getenv("SLUICE_REPO_ROOT"); root != "" {
		return root, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "proto", "sluice")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("brokertest: repository root not found (set SLUICE_REPO_ROOT)")
		}
		dir = parent
	}
}

// Start runs `node --import tsx src/main.ts --host 127.0.0.1 --port 0
// --data-dir <tmp>` from the repository root and returns once the broker
// logged "sluice listening" with its port. Stop it with Stop.
func Start() (*Broker, error) { return StartWith() }

// StartWith is Start with more flags, e.g. "--tls-cert", path.
func StartWith(args ...string) (*Broker, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	dataDir, err := os.MkdirTemp("", "sluice-go-test-")
	if err != nil {
		return nil, err
	}
	b := &Broker{dataDir: dataDir, exited: make(chan struct{})}
	b.cmd = exec.Command("node", append([]string{"--import", "tsx", "src/main.ts", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir}, args...)...)
	b.cmd.Dir = root
	b.cmd.Stderr = writerFunc(b.record)
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dataDir)
		return nil, err
	}
	if err := b.cmd.Start(); err != nil {
		os.RemoveAll(dataDir)
		return nil, err
	}
	ports := make(chan int, 1)
	go b.scan(stdout, ports)
	go func() { _ = b.cmd.Wait(); close(b.exited) }()

	select {
	case port := <-ports:
		b.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		return b, nil
	case <-b.exited:
		b.Stop()
		return nil, fmt.Errorf("brokertest: broker exited before listening:\n%s", b.Log())
	case <-time.After(StartTimeout):
		b.Stop()
		return nil, fmt.Errorf("brokertest: no listening line within %s:\n%s", StartTimeout, b.Log())
	}
}

func (b *Broker) scan(stdout io.Reader, ports chan<- int) {
	scanner := bufio.NewScanner(stdout)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	sent := false
	for scanner.Scan() {
		line := scanner.Text()
		b.record([]byte(line + "\n"))
		if sent || !strings.Contains(line, `"sluice listening"`) {
			continue
		}
		var entry struct {
			Msg  string `json:"msg"`
			Port int    `json:"port"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "sluice listening" && entry.Port > 0 {
			ports <- entry.Port
			sent = true
		}
	}
}

// Alive reports whether the process is still running.
func (b *Broker) Alive() bool {
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// Log returns what the broker printed so far.
func (b *Broker) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.log.String()
}

// Stop ends the process (SIGTERM, then SIGKILL after 10 s) and removes the
// data directory.
func (b *Broker) Stop() {
	if b.Alive() {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(10 * time.Second):
			_ = b.cmd.Process.Kill()
			<-b.exited
		}
	}
	os.RemoveAll(b.dataDir)
}

func (b *Broker) record(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.log.Write(p)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
