package sluice_test

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	sluice "github.com/sluice-broker/sluice/clients/go"
	"google.golang.org/grpc/codes"
)

func TestMessagesWhoseAnswersWereLostAreResentAndAnsweredAsDuplicatesAtTheirFirstPositions(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 1)
	proxy := startProxy(t, broker.Addr)
	viaProxy := dialAddr(t, proxy.Addr())
	p := newPublisher(t, viaProxy, topic, fastReconnect, sluice.WithMaxBatchMessages(40))
	if r, err := p.Send(ctx, text("first")); err != nil || r != at(0, false) {
		t.Fatalf("first Send = %v, %v", r, err)
	}

	proxy.DropReplies()
	type outcome struct {
		results []sluice.PublishResult
		err     error
	}
	batch := make(chan outcome, 1)
	go func() {
		rs, err := p.SendBatch(ctx, texts("lost", 100))
		batch <- outcome{rs, err}
	}()
	// The broker stores all 100 (in 3 requests), but no answer comes back.
	stored := readAll(t, c, topic, 101)
	proxy.Cut()
	got := <-batch
	if got.err != nil {
		t.Fatal(got.err)
	}
	for i, r := range got.results {
		if r != at(uint64(i+1), true) {
			t.Fatalf("result %d = %v, want offset %d as a duplicate", i, r, i+1)
		}
		if want := fmt.Sprintf("lost-%d", i); string(stored[i+1].Payload) != want {
			t.Fatalf("offset %d holds %q, want %q", i+1, stored[i+1].Payload, want)
		}
	}
	wantTopicEnd(t, c, topic, 101) // no resent message stored twice
	if r, err := p.Send(ctx, text("after")); err != nil || r != at(101, false) {
		t.Fatalf("Send after the reconnection = %v, %v", r, err)
	}
}

func TestSendsGoOnThroughABrokerRestartWithoutLosingOrRepeatingAMessage(t *testing.T) {
	for _, tc := range restarts {
		t.Run(tc.name, func(t *testing.T) {
			b, c := ownBroker(t)
			ctx := testContext(t)
			topic := newTopic(t, c, 1)
			p := newPublisher(t, c, topic, fastReconnect)

			// 8 callers of Send and one of SendBatch, so that many messages are on the wire at the restart.
			const callers = 9
			var (
				mu      sync.Mutex
				results []sluice.PublishResult
				stop    = make(chan struct{})
				wg      sync.WaitGroup
			)
			confirmed := make(chan struct{}, 1_000_000)
			for g := range callers {
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						var rs []sluice.PublishResult
						var err error
						if g == 0 {
							rs, err = p.SendBatch(ctx, texts(fmt.Sprintf("batch-%d", i), 100))
						} else {
							var r sluice.PublishResult
							r, err = p.Send(ctx, text(fmt.Sprintf("%d-%d", g, i)))
							rs = []sluice.PublishResult{r}
						}
						if err != nil {
							t.Errorf("caller %d call %d: %v", g, i, err)
							return
						}
						mu.Lock()
						results = append(results, rs...)
						mu.Unlock()
						confirmed <- struct{}{}
					}
				})
			}
			awaitConfirmed := func(n int) {
				for range n {
					select {
					case <-confirmed:
					case <-ctx.Done():
						t.Fatal("sends stopped being confirmed")
					}
				}
			}
			awaitConfirmed(200)
			if err := b.Restart(tc.sig); err != nil {
				t.Fatal(err)
			}
			for len(confirmed) > 0 { // what was confirmed before the restart
				<-confirmed
			}
			awaitConfirmed(200)
			close(stop)
			wg.Wait()

			offsets, duplicates := map[uint64]bool{}, 0
			for _, r := range results {
				offsets[r.Offset] = true
				if r.Duplicate {
					duplicates++
				}
			}
			t.Logf("%d messages confirmed, %d of them as duplicates of a copy stored before the restart", len(results), duplicates)
			end := topicEnd(t, c, topic)
			if uint64(len(offsets)) != end || uint64(len(results)) != end {
				t.Fatalf("%d messages confirmed at %d distinct offsets; the topic holds %d messages", len(results), len(offsets), end)
			}
		})
	}
}

func TestClosingAPublisherLeavesNoGoroutineBehind(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx := testContext(t)
	setup := dial(t)
	topic := newTopic(t, setup, 1)
	proxy := startProxy(t, broker.Addr)
	c, err := sluice.Dial(proxy.Addr())
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Publisher(topic, fastReconnect, sluice.WithLinger(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SendBatch(ctx, texts("a", 10)); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	if _, err := p.SendBatch(ctx, texts("b", 10)); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if stacks := goroutinesIn("clients/go.(*Publisher)"); stacks != "" {
		t.Fatalf("publisher goroutines after Close:\n%s", stacks)
	}
	c.Close()
	setup.Close()
	proxy.Close()
	wantGoroutinesBackTo(t, before)
}

func TestClosingTheClientFailsAPublishersPendingSendInsteadOfRetrying(t *testing.T) {
	ctx := testContext(t)
	topic := newTopic(t, dial(t), 1)
	proxy := startProxy(t, broker.Addr)
	c, err := sluice.Dial(proxy.Addr())
	if err != nil {
		t.Fatal(err)
	}
	p := newPublisher(t, c, topic, fastReconnect)
	if _, err := p.Send(ctx, text("connected")); err != nil {
		t.Fatal(err)
	}
	proxy.DropReplies()
	sent := sendInBackground(ctx, p, text("pending"))
	c.Close()
	if err := <-sent; err == nil || ctx.Err() != nil {
		t.Fatalf("pending Send = %v, want the closed connection's error before the test's deadline", err)
	}
}

func TestSendsFailWithTheStreamsErrorOnceReconnectionGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // nothing listens there any more
	c := dialAddr(t, ln.Addr().String())
	p := newPublisher(t, c, "nowhere", sluice.WithReconnect(sluice.ReconnectPolicy{InitialDelay: time.Millisecond, MaxAttempts: 2}))
	_, err = p.Send(testContext(t), text("x"))
	wantCode(t, err, codes.Unavailable, "")
}

// dialAddr is dial for another address.
func dialAddr(t *testing.T, addr string) *sluice.Client {
	t.Helper()
	c, err := sluice.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wantGoroutinesBackTo waits until no more goroutines run than before, the
// number counted when the test started.
func wantGoroutinesBackTo(t *testing.T, before int) {
	t.Helper()
	waitFor(t, "goroutines back to their number before the test", func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("%d goroutines, %d before:\n%s", n, before, goroutinesIn(""))
		}
		return nil
	})
}

// goroutinesIn returns the stacks of the goroutines with a frame containing
// frame ("" for all of them).
func goroutinesIn(frame string) string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, frame) {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
