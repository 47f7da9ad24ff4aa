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
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

	root    string
	args    []string
	cmd     *exec.Cmd
	dataDir string
	exited  chan struct{} // closed when the current process has exited
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
	b := &Broker{root: root, dataDir: dataDir, args: args}
	if err := b.launch(0); err != nil {
		os.RemoveAll(dataDir)
		return nil, err
	}
	return b, nil
}

// Restart ends the process with sig (syscall.SIGTERM: a graceful shutdown;
// syscall.SIGKILL: a crash) and starts the broker again on the same port
// and data directory, returning once it listens.
func (b *Broker) Restart(sig syscall.Signal) error {
	b.stopProcess(sig)
	_, port, err := net.SplitHostPort(b.Addr)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	return b.launch(p)
}

// launch starts the process on port (0: any) and waits for its listening line.
func (b *Broker) launch(port int) error {
	exited := make(chan struct{})
	b.exited = exited
	b.cmd = exec.Command("node", append([]string{"--import", "tsx", "src/main.ts", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--data-dir", b.dataDir}, b.args...)...)
	b.cmd.Dir = b.root
	b.cmd.Stderr = writerFunc(b.record)
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := b.cmd.Start(); err != nil {
		return err
	}
	ports := make(chan int, 1)
	go b.scan(stdout, ports)
	cmd := b.cmd
	go func() { _ = cmd.Wait(); close(exited) }()

	select {
	case port := <-ports:
		b.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		return nil
	case <-exited:
		return fmt.Errorf("brokertest: broker exited before listening:\n%s", b.Log())
	case <-time.After(StartTimeout):
		b.stopProcess(syscall.SIGTERM)
		return fmt.Errorf("brokertest: no listening line within %s:\n%s", StartTimeout, b.Log())
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
	b.stopProcess(syscall.SIGTERM)
	os.RemoveAll(b.dataDir)
}

// stopProcess sends sig and waits for the process to exit (SIGKILL after 10 s).
func (b *Broker) stopProcess(sig syscall.Signal) {
	if !b.Alive() {
		return
	}
	_ = b.cmd.Process.Signal(sig)
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
}

func (b *Broker) record(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.log.Write(p)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
