package sluice_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sluice "github.com/sluice-broker/sluice/clients/go"
	"github.com/sluice-broker/sluice/clients/go/internal/brokertest"
	"google.golang.org/grpc"
)

// broker is the one live broker the tests of this package share; each test
// works on topics of its own.
var broker *brokertest.Broker

func TestMain(m *testing.M) {
	b, err := brokertest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	broker = b
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "broker log:\n%s", b.Log())
	}
	b.Stop()
	os.Exit(code)
}

var topicSeq atomic.Int64

// newTopic creates a topic with a name unique to this run.
func newTopic(t *testing.T, c *sluice.Client, partitions uint32) string {
	t.Helper()
	name := fmt.Sprintf("go-test-%d-%d", time.Now().UnixNano(), topicSeq.Add(1))
	if _, err := c.CreateTopic(testContext(t), name, partitions); err != nil {
		t.Fatalf("CreateTopic(%s): %v", name, err)
	}
	return name
}

func dial(t *testing.T, opts ...grpc.DialOption) *sluice.Client {
	t.Helper()
	c, err := sluice.Dial(broker.Addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ownBroker starts a broker of the test's own, for a test that restarts or
// stops it, and a client of it.
func ownBroker(t *testing.T) (*brokertest.Broker, *sluice.Client) {
	t.Helper()
	b, err := brokertest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	c, err := sluice.Dial(b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return b, c
}

// restarts are the two ways a broker restarts: gracefully and after a crash.
var restarts = []struct {
	name string
	sig  syscall.Signal
}{{"graceful", syscall.SIGTERM}, {"crash", syscall.SIGKILL}}

// testContext bounds each test's calls.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls check until it returns nil or the deadline passes. It is for
// broker state that only an admin RPC can observe (no event announces it).
func waitFor(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
