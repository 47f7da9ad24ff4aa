package sluice_test

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	sluice "github.com/sluice-broker/sluice/clients/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fastResubscribe reconnects after 10 to 50 ms, so that tests do not wait for the default backoff.
var fastResubscribe = sluice.WithSubscribeReconnect(sluice.ReconnectPolicy{InitialDelay: 20 * time.Millisecond, MaxDelay: 50 * time.Millisecond})

func TestConsumptionGoesOnThroughABrokerRestartAndEveryMessageIsAcked(t *testing.T) {
	for _, tc := range restarts {
		t.Run(tc.name, func(t *testing.T) {
			b, c := ownBroker(t)
			ctx := testContext(t)
			topic := newTopic(t, c, 2)
			p := newPublisher(t, c, topic, fastReconnect)
			const perRound = 200
			if _, err := p.SendBatch(ctx, texts("before", perRound)); err != nil {
				t.Fatal(err)
			}
			sub, err := c.Subscribe(ctx, topic, "g", sluice.WithMaxInFlight(10), fastResubscribe)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			firstID := sub.ConsumerID()

			var (
				mu      sync.Mutex
				seen    = map[sluice.Position]bool{}
				taken   int                               // deliveries Next returned
				acked   = make(chan struct{}, 4*perRound) // one per delivery acked
				stopped = make(chan error, 1)
			)
			go func() {
				for {
					d, err := sub.Next(ctx)
					if err != nil {
						stopped <- err
						return
					}
					if err := d.Ack(); err != nil {
						stopped <- fmt.Errorf("Ack: %w", err)
						return
					}
					mu.Lock()
					seen[d.Position()] = true
					taken++
					mu.Unlock()
					acked <- struct{}{}
				}
			}()
			awaitAcked := func(what string, done func() bool) {
				t.Helper()
				for !done() {
					select {
					case <-acked:
					case err := <-stopped:
						t.Fatalf("%s: Next stopped: %v", what, err)
					case <-ctx.Done():
						t.Fatalf("%s: deliveries stopped", what)
					}
				}
			}
			count := 0
			awaitAcked("before the restart", func() bool { count++; return count > 50 })
			if err := b.Restart(tc.sig); err != nil {
				t.Fatal(err)
			}
			if _, err := p.SendBatch(ctx, texts("after", perRound)); err != nil {
				t.Fatal(err)
			}
			awaitAcked("after the restart", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(seen) == 2*perRound
			})
			mu.Lock()
			t.Logf("%d deliveries acked for %d messages", taken, len(seen))
			mu.Unlock()
			if end := topicEnd(t, c, topic); end != 2*perRound {
				t.Fatalf("the topic holds %d messages, want %d", end, 2*perRound)
			}
			waitFor(t, "the group's committed offsets at the end of each partition", func() error {
				g, err := c.GetGroup(ctx, topic, "g")
				if err != nil {
					return err
				}
				for _, gp := range g.GetPartitions() {
					if gp.GetCommittedOffset() != gp.GetEndOffset() {
						return fmt.Errorf("partition %d: committed %d, end %d", gp.GetPartition(), gp.GetCommittedOffset(), gp.GetEndOffset())
					}
				}
				return nil
			})
			if id := sub.ConsumerID(); id == "" || id == firstID {
				t.Fatalf("ConsumerID after the reconnection = %q, want a new id (was %q)", id, firstID)
			}
		})
	}
}

func TestAnAckOfADeliveryFromABrokenStreamGoesOnTheNextStreamAndItsNackIsRefused(t *testing.T) {
	ctx := testContext(t)
	setup := dial(t)
	topic := newTopic(t, setup, 1)
	publishN(t, setup, topic, 1)
	proxy := startProxy(t, broker.Addr)
	c := dialAddr(t, proxy.Addr())
	sub, err := c.Subscribe(ctx, topic, "g", sluice.WithMaxInFlight(1), fastResubscribe)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	first := next(t, ctx, sub)
	proxy.Cut()
	// The broker gave the message back when the stream broke, and delivers it to the next stream.
	again := next(t, ctx, sub)
	if again.Position() != first.Position() || again.Attempt != first.Attempt+1 {
		t.Fatalf("after the reconnection: %v attempt %d, want %v attempt %d", again.Position(), again.Attempt, first.Position(), first.Attempt+1)
	}
	if err := first.Nack(0); !errors.Is(err, sluice.ErrStaleDelivery) {
		t.Fatalf("Nack of the first delivery = %v, want ErrStaleDelivery", err)
	}
	if err := first.Extend(time.Minute); !errors.Is(err, sluice.ErrStaleDelivery) {
		t.Fatalf("Extend of the first delivery = %v, want ErrStaleDelivery", err)
	}
	if err := first.Ack(); err != nil {
		t.Fatalf("Ack of the first delivery = %v", err)
	}
	waitFor(t, "the first delivery's ack committed", func() error { return committed(ctx, setup, topic, "g", 1) })
}

func TestDeletingTheGroupEndsAReconnectingSubscriptionWithAbortedWithoutResubscribing(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 1)
	sub, err := c.Subscribe(ctx, topic, "g", fastResubscribe)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := c.DeleteGroup(ctx, topic, "g", true); err != nil {
		t.Fatal(err)
	}
	_, err = sub.Next(ctx)
	wantCode(t, err, codes.Aborted, "")
	// A new stream would have created the group again.
	if _, err := c.GetGroup(ctx, topic, "g"); status.Code(err) != codes.NotFound {
		t.Fatalf("GetGroup after the subscription ended = %v, want NotFound", err)
	}
	if err := sub.Close(); status.Code(err) != codes.Aborted {
		t.Fatalf("Close = %v, want the Aborted the subscription ended with", err)
	}
}

func TestASubscriptionEndsWithUnavailableOnceReconnectionGivesUp(t *testing.T) {
	b, c := ownBroker(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 1)
	sub, err := c.Subscribe(ctx, topic, "g", sluice.WithSubscribeReconnect(sluice.ReconnectPolicy{InitialDelay: time.Millisecond, MaxAttempts: 2}))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	b.Stop()
	_, err = sub.Next(ctx)
	wantCode(t, err, codes.Unavailable, "")
	if id := sub.ConsumerID(); id != "" {
		t.Fatalf("ConsumerID of an ended subscription = %q, want \"\"", id)
	}
}

func TestClosingASubscriptionDuringItsBackoffReturnsPromptlyAndLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	setup := dial(t)
	topic := newTopic(t, setup, 1)
	proxy := startProxy(t, broker.Addr)
	c, err := sluice.Dial(proxy.Addr())
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.Subscribe(testContext(t), topic, "g", sluice.WithSubscribeReconnect(sluice.ReconnectPolicy{InitialDelay: time.Hour, Jitter: -1}))
	if err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	// Nothing announces that the subscription saw the break: its consumer id is cleared then.
	waitFor(t, "the subscription waiting to reconnect", func() error {
		if id := sub.ConsumerID(); id != "" {
			return fmt.Errorf("still on consumer %s", id)
		}
		return nil
	})
	start := time.Now()
	if err := sub.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Close during the backoff took %v", took)
	}
	if _, err := sub.Next(testContext(t)); err != io.EOF {
		t.Fatalf("Next after Close = %v, want io.EOF", err)
	}
	if stacks := goroutinesIn("clients/go.(*Subscription)"); stacks != "" {
		t.Fatalf("subscription goroutines after Close:\n%s", stacks)
	}
	c.Close()
	setup.Close()
	proxy.Close()
	wantGoroutinesBackTo(t, before)
}
