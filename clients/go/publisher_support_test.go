package sluice_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	sluice "github.com/sluice-broker/sluice/clients/go"
	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// publishTap is a stream interceptor on PublishStream that records every
// request sent and can hold the responses: with Hold, the publisher's
// reader receives each response only after Release.
type publishTap struct {
	sent chan int // the message count of each request, as it is sent

	mu            sync.Mutex
	sizes         []int
	hold          chan struct{} // non-nil: responses wait until it is closed
	requests      map[uint64]int
	unanswered    int // messages sent and not answered
	maxUnanswered int
}

func newPublishTap() *publishTap {
	return &publishTap{sent: make(chan int, 100_000), requests: map[uint64]int{}}
}

// option is the dial option that installs the tap.
func (tp *publishTap) option() grpc.DialOption {
	return grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn,
		method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil || method != sluicev1.BrokerService_PublishStream_FullMethodName {
			return cs, err
		}
		return &tappedStream{ClientStream: cs, tap: tp}, nil
	})
}

// Hold makes responses wait from now on, until Release.
func (tp *publishTap) Hold() {
	tp.mu.Lock()
	tp.hold = make(chan struct{})
	tp.mu.Unlock()
}

// Release lets the held responses and later ones through.
func (tp *publishTap) Release() {
	tp.mu.Lock()
	close(tp.hold)
	tp.hold = nil
	tp.mu.Unlock()
}

// awaitSent waits until requests holding n messages in all have been sent.
func (tp *publishTap) awaitSent(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for n > 0 {
		select {
		case k := <-tp.sent:
			n -= k
		case <-timeout:
			t.Fatalf("still waiting for %d messages to be sent", n)
		}
	}
}

// Sizes is the message count of every request sent so far, in order.
func (tp *publishTap) Sizes() []int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]int(nil), tp.sizes...)
}

// Unanswered is how many messages sent are not answered yet.
func (tp *publishTap) Unanswered() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.unanswered
}

// MaxUnanswered is the most messages that were on the wire unanswered at once.
func (tp *publishTap) MaxUnanswered() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.maxUnanswered
}

type tappedStream struct {
	grpc.ClientStream
	tap *publishTap
}

func (s *tappedStream) SendMsg(m any) error {
	if req, ok := m.(*sluicev1.PublishStreamRequest); ok {
		tp, n := s.tap, len(req.GetMessages())
		tp.mu.Lock()
		tp.sizes = append(tp.sizes, n)
		tp.requests[req.GetRequestId()] = n
		tp.unanswered += n
		tp.maxUnanswered = max(tp.maxUnanswered, tp.unanswered)
		tp.mu.Unlock()
		tp.sent <- n
	}
	return s.ClientStream.SendMsg(m)
}

func (s *tappedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	tp := s.tap
	tp.mu.Lock()
	hold := tp.hold
	tp.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-s.Context().Done():
			// A held response is lost with a cancelled stream, as on a network.
			return status.FromContextError(s.Context().Err()).Err()
		}
	}
	if res, ok := m.(*sluicev1.PublishStreamResponse); ok && err == nil {
		tp.mu.Lock()
		tp.unanswered -= tp.requests[res.GetRequestId()]
		delete(tp.requests, res.GetRequestId())
		tp.mu.Unlock()
	}
	return err
}

// setUp is how most publisher tests start: a client with a tap on its
// publish streams, a new topic of one partition, and a publisher to it.
func setUp(t *testing.T, opts ...sluice.PublisherOption) (*publishTap, *sluice.Client, context.Context, string, *sluice.Publisher) {
	t.Helper()
	tap := newPublishTap()
	c := dial(t, tap.option())
	topic := newTopic(t, c, 1)
	return tap, c, testContext(t), topic, newPublisher(t, c, topic, opts...)
}

// wantTopicEnd fails the test unless the topic's end offsets add up to want.
func wantTopicEnd(t *testing.T, c *sluice.Client, topic string, want uint64) {
	t.Helper()
	if end := topicEnd(t, c, topic); end != want {
		t.Fatalf("topic end = %d, want %d", end, want)
	}
}

// sendInBackground starts p.Send(ctx, m); the channel gets its error.
func sendInBackground(ctx context.Context, p *sluice.Publisher, m sluice.Message) <-chan error {
	sent := make(chan error, 1)
	go func() {
		_, err := p.Send(ctx, m)
		sent <- err
	}()
	return sent
}

// newPublisher makes a publisher that the test closes at its end.
func newPublisher(t *testing.T, c *sluice.Client, topic string, opts ...sluice.PublisherOption) *sluice.Publisher {
	t.Helper()
	p, err := c.Publisher(topic, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// fastReconnect retries after 10 to 50 ms, so that tests do not wait for the default backoff.
var fastReconnect = sluice.WithReconnect(sluice.ReconnectPolicy{InitialDelay: 20 * time.Millisecond, MaxDelay: 50 * time.Millisecond})

// text is a message with a text payload.
func text(s string) sluice.Message { return sluice.Message{Payload: []byte(s)} }

// texts are n messages "prefix-0", "prefix-1", ...
func texts(prefix string, n int) []sluice.Message {
	out := make([]sluice.Message, n)
	for i := range out {
		out[i] = text(fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

// at is the result of a message stored at offset of partition 0.
func at(offset uint64, duplicate bool) sluice.PublishResult {
	return sluice.PublishResult{Position: sluice.Position{Offset: offset}, Duplicate: duplicate}
}

// readAll subscribes a new group from the earliest message and returns the
// first n deliveries, in order (topics of one partition), acked.
func readAll(t *testing.T, c *sluice.Client, topic string, n int) []*sluice.Delivery {
	t.Helper()
	ctx := testContext(t)
	sub, err := c.Subscribe(ctx, topic, fmt.Sprintf("reader-%d", time.Now().UnixNano()), sluice.WithMaxInFlight(1000))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	out := make([]*sluice.Delivery, n)
	for i := range out {
		out[i] = next(t, ctx, sub)
		_ = out[i].Ack()
	}
	return out
}

// topicEnd is the sum of the end offsets of the topic's partitions.
func topicEnd(t *testing.T, c *sluice.Client, topic string) uint64 {
	t.Helper()
	info, err := c.GetTopic(testContext(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	var end uint64
	for _, p := range info.GetPartitions() {
		end += p.GetEndOffset()
	}
	return end
}
