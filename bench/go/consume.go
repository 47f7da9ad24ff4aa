package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	sluice "github.com/sluice-broker/sluice/clients/go"
)

// consumeAck opens streams subscriptions of a new group from the earliest
// offset and acks every delivery (the Go client's Subscribe and
// Delivery.Ack) until count are acked. Timed from the first Subscribe, as
// the TypeScript workload is.
func consumeAck(ctx context.Context, client *sluice.Client, topic, group string, streams int, count int64) (result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		acked    atomic.Int64
		done     = make(chan struct{})
		doneOnce sync.Once
		failed   = make(chan error, streams)
		wg       sync.WaitGroup
	)
	t0 := time.Now()
	subs := make([]*sluice.Subscription, 0, streams)
	defer func() {
		for _, s := range subs {
			_ = s.Close()
		}
	}()
	for range streams {
		sub, err := client.Subscribe(ctx, topic, group, sluice.WithStart(sluice.StartEarliest()))
		if err != nil {
			return result{}, fmt.Errorf("Subscribe: %w", err)
		}
		subs = append(subs, sub)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d, err := range sub.All(ctx) {
				if err != nil {
					// After the run, cancelling ctx ends the stream with Canceled.
					if ctx.Err() == nil {
						failed <- err
					}
					return
				}
				if err := d.Ack(); err != nil {
					failed <- err
					return
				}
				if acked.Add(1) == count {
					doneOnce.Do(func() { close(done) })
				}
			}
		}()
	}
	select {
	case <-done:
	case err := <-failed:
		return result{}, fmt.Errorf("consume: %w", err)
	}
	elapsed := time.Since(t0)
	cancel() // ends the readers; the deferred Close ends the streams
	wg.Wait()
	return result{Count: count, Seconds: elapsed.Seconds()}, nil
}
