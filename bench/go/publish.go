package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sluice "github.com/sluice-broker/sluice/clients/go"
	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
)

// The TypeScript Publisher's defaults (maxBatchMessages, maxBatchBytes) and
// the TypeScript bench's window of unconfirmed sends, so that both clients
// put the same requests on the wire.
const (
	batchMessages = 1000
	batchBytes    = 1 << 20
	window        = 100_000
)

// idSource returns a function that gives each message a unique id, like the
// TypeScript Publisher's automatic ids (a random prefix and a counter), or
// "" for every message when on is false. Safe for concurrent use.
func idSource(on bool) func() string {
	if !on {
		return func() string { return "" }
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := base64.RawURLEncoding.EncodeToString(b) + "-"
	var n atomic.Uint64
	return func() string { return prefix + strconv.FormatUint(n.Add(1)-1, 36) }
}

// publishBatched sends count messages over one PublishStream in requests of
// up to batchMessages messages (or batchBytes), with at most window messages
// unconfirmed, and returns when the last is confirmed, through the
// generated stub (written before the Go client had a Publisher; it measures
// the stream without the client's batching). Timed from opening
// the stream, as the TypeScript workload is timed from creating its
// Publisher.
func publishBatched(ctx context.Context, client *sluice.Client, topic string, payloads [][]byte, count int64, nextID func() string) (result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t0 := time.Now()
	stream, err := client.Broker().PublishStream(ctx)
	if err != nil {
		return result{}, err
	}
	// Each in-flight request holds as many tokens as it has messages.
	credit := make(chan struct{}, window)
	var (
		confirmed int64
		recvErr   error
		wg        sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for confirmed < count {
			res, err := stream.Recv()
			if err != nil {
				recvErr = fmt.Errorf("PublishStream: %w", err)
				cancel()
				return
			}
			if e := res.GetError(); e != nil {
				recvErr = fmt.Errorf("PublishStream request %d: code %d: %s", res.GetRequestId(), e.GetCode(), e.GetMessage())
				cancel()
				return
			}
			n := len(res.GetResults())
			confirmed += int64(n)
			for range n {
				<-credit
			}
		}
	}()

	mask := len(payloads) - 1
	var requestID uint64
	for sent := int64(0); sent < count && ctx.Err() == nil; {
		requestID++
		req := &sluicev1.PublishStreamRequest{RequestId: requestID, Topic: topic, Messages: make([]*sluicev1.PublishMessage, 0, batchMessages)}
		bytes := 0
		for sent < count && len(req.Messages) < batchMessages {
			p := payloads[int(sent)&mask]
			m := &sluicev1.PublishMessage{Payload: p, MessageId: nextID()}
			// The TypeScript Publisher's size estimate, so batches split alike.
			size := 16 + len(p) + len(m.MessageId)
			if len(req.Messages) > 0 && bytes+size > batchBytes {
				break
			}
			select {
			case credit <- struct{}{}:
			case <-ctx.Done():
			}
			req.Messages = append(req.Messages, m)
			bytes += size
			sent++
		}
		if err := stream.Send(req); err != nil {
			break // the status comes from Recv
		}
	}
	wg.Wait()
	elapsed := time.Since(t0)
	if recvErr != nil {
		return result{}, recvErr
	}
	if err := stream.CloseSend(); err != nil {
		return result{}, err
	}
	return result{Count: confirmed, Seconds: elapsed.Seconds()}, nil
}

// publishUnary runs callers goroutines that each publish one message per
// unary Publish call (the Go client's Publish) and wait for it, for d.
func publishUnary(ctx context.Context, client *sluice.Client, topic string, payloads [][]byte, callers int, d time.Duration, nextID func() string) (result, error) {
	return callersFor(callers, d, func(i int) error {
		_, err := client.Publish(ctx, topic, sluice.Message{Payload: payloads[i&(len(payloads)-1)], MessageID: nextID()})
		return err
	}, "Publish")
}

// callersFor runs callers goroutines that each call publish, one message at
// a time, for d (caller k publishes payloads k, k+callers, ...), and counts
// the messages; the first error (of a call named call) ends its caller and
// the run.
func callersFor(callers int, d time.Duration, publish func(i int) error, call string) (result, error) {
	var (
		n        atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	t0 := time.Now()
	end := t0.Add(d)
	for k := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; time.Now().Before(end); i += callers {
				if err := publish(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	if firstErr != nil {
		return result{}, fmt.Errorf("%s: %w", call, firstErr)
	}
	return result{Count: n.Load(), Seconds: elapsed.Seconds()}, nil
}

// publishViaPublisher runs callers goroutines that each send one message
// through one shared Publisher (linger 0, as the TypeScript row's lingerMs 0)
// and wait for its confirmation before the next, for d: what concurrent
// request handlers of an application do. The publisher puts the messages
// sent while it writes a request into the next one. Its own automatic ids
// stand for nextID's, unless ids is false.
func publishViaPublisher(ctx context.Context, client *sluice.Client, topic string, payloads [][]byte, callers int, d time.Duration, ids bool) (result, error) {
	p, err := client.Publisher(topic, sluice.WithLinger(0), sluice.WithAutoMessageID(ids))
	if err != nil {
		return result{}, err
	}
	defer p.Close(ctx)
	return callersFor(callers, d, func(i int) error {
		_, err := p.Send(ctx, sluice.Message{Payload: payloads[i&(len(payloads)-1)]})
		return err
	}, "Publisher.Send")
}

// sendBatchSize is the messages of one SendBatch call in publishSendBatch,
// as the TypeScript row's SEND_BATCH_SIZE.
const sendBatchSize = 1000

// publishSendBatch sends count messages through one Publisher (the client's
// defaults; its automatic ids unless ids is false) in SendBatch calls of
// sendBatchSize messages, and returns when the last call has returned: the
// Go client's Publisher as an application with its messages in hand uses it.
// SendBatch waits for its confirmations, so each call runs in a goroutine of
// its own, and at most window messages are in calls that have not returned,
// the TypeScript row's bound on unsettled sendBatch promises. Timed from
// just after the publisher is created, as the TypeScript workload is.
func publishSendBatch(ctx context.Context, client *sluice.Client, topic string, payloads [][]byte, count int64, ids bool) (result, error) {
	p, err := client.Publisher(topic, sluice.WithAutoMessageID(ids))
	if err != nil {
		return result{}, err
	}
	defer p.Close(ctx)
	var (
		failed   atomic.Bool
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	// A slot per call in flight. The TypeScript row waits until half of its
	// window is confirmed to spare a wake-up per confirmation; a channel slot
	// is cheap, so here the next call goes as soon as one returns.
	slots := make(chan struct{}, window/sendBatchSize)
	t0 := time.Now()
	for sent := int64(0); sent < count && !failed.Load(); sent += sendBatchSize {
		batch := batchOf(payloads, sent, min(sendBatchSize, count-sent))
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.SendBatch(ctx, batch); err != nil {
				once.Do(func() { firstErr = err })
				failed.Store(true)
			}
			<-slots
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	if firstErr != nil {
		return result{}, fmt.Errorf("Publisher.SendBatch: %w", firstErr)
	}
	return result{Count: count, Seconds: elapsed.Seconds()}, nil
}

// batchOf is n messages with payloads start, start+1, ... (cycling through
// payloads), a new slice each time, since the publisher keeps the messages
// until the broker answers.
func batchOf(payloads [][]byte, start, n int64) []sluice.Message {
	batch := make([]sluice.Message, n)
	mask := int64(len(payloads) - 1)
	for j := range batch {
		batch[j] = sluice.Message{Payload: payloads[(start+int64(j))&mask]}
	}
	return batch
}
