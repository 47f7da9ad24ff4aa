package sluice

import (
	"context"
	"sync"
	"time"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrPublisherClosed is the error of a Send or SendBatch (as its Err) made
// after Close: a codes.FailedPrecondition status error.
var ErrPublisherClosed = status.Error(codes.FailedPrecondition, "sluice: the publisher is closed")

// errClosedEarly fails what was pending when Close gave up waiting.
var errClosedEarly = status.Error(codes.Canceled, "sluice: the publisher was closed before the broker confirmed the message; it may have been stored")

type publisherState int

const (
	stateOpen    publisherState = iota
	stateClosing                // Close was called: no new calls, pending ones go on
	stateClosed                 // Close returned
)

// Publisher publishes to one topic over one PublishStream, batching the
// messages of concurrent calls into requests (by count, bytes and a short
// linger) and pipelining the requests: several are on the wire at once, and
// the broker answers them in order. It is safe for concurrent use; messages
// of one goroutine's calls are stored in the order of its calls, and the
// calls of all goroutines in the order they reached the publisher.
//
// Every message without a MessageID gets a unique one (unless
// WithAutoMessageID(false)). When the stream breaks with a retryable status
// (codes.Unavailable, codes.Internal, codes.Unknown, codes.Canceled,
// codes.DeadlineExceeded), the publisher reconnects with jittered
// exponential backoff (WithReconnect) and resends every unconfirmed message
// in order with the same ids: within the topic's dedupe window the broker
// stores such a message only once and answers the resend with the first
// copy's position and Duplicate set. With the topic's dedupe window at 0, or
// a resend later than the window, a message may be stored twice. A stream
// that fails with another status (e.g. codes.ResourceExhausted for a request
// over the broker's --max-request-bytes, codes.Unauthenticated) fails every
// pending message with it; the next call opens a stream again.
//
// Close it when done, before closing its Client: it holds a goroutine and,
// once used, a stream. Closing the Client first fails its pending messages
// with the connection's codes.Canceled status.
type Publisher struct {
	client *Client
	topic  string
	cfg    publisherConfig
	ids    *messageIDs

	mu            sync.Mutex
	state         publisherState
	calls         callList
	bound         unconfirmedBound
	open          []item // the open request
	openBytes     int
	openMessages  int
	hurry         bool             // the writer seals the open request when it looks
	lingerTimer   *time.Timer      // the open request's; the writer waits on it
	queued        []*sealedRequest // sealed, not written
	inflight      []*sealedRequest // written, not answered, in order
	nextRequestID uint64

	wake      chan struct{} // cap 1: work for the writer
	abort     chan struct{} // closed when Close gives up waiting
	abortOnce sync.Once
	ctx       context.Context // the streams' context; cancelled by abort
	cancel    context.CancelFunc
	stopped   chan struct{} // closed when the writer goroutine has returned
}

// Publisher returns a publisher to topic; it connects on its first message.
// Options and their defaults: WithMaxBatchMessages (1000),
// WithMaxBatchBytes (1 MiB), WithLinger (5 ms), WithMaxUnconfirmedBytes
// (64 MiB), WithMaxUnconfirmedMessages (no bound), WithAutoMessageID (on),
// WithReconnect (DefaultReconnectPolicy).
// Errors: codes.InvalidArgument for a topic name the broker would refuse or
// a bad option. A topic that does not exist fails each send with
// codes.NotFound.
func (c *Client) Publisher(topic string, opts ...PublisherOption) (*Publisher, error) {
	if err := checkTopic(topic); err != nil {
		return nil, err
	}
	cfg := defaultPublisherConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Publisher{
		client: c, topic: topic, cfg: cfg, ids: newMessageIDs(),
		bound: unconfirmedBound{maxBytes: cfg.maxUnconfirmedBytes, maxMessages: cfg.maxUnconfirmedMessages},
		wake:  make(chan struct{}, 1), abort: make(chan struct{}), ctx: ctx, cancel: cancel, stopped: make(chan struct{}),
	}
	go p.run()
	return p, nil
}

// Topic is the topic the publisher writes to.
func (p *Publisher) Topic() string { return p.topic }

// Send publishes m and returns where the broker stored it (see
// PublishResult for duplicates). It waits while the unconfirmed bounds are
// full, then for the broker's confirmation.
//
// Errors: codes.InvalidArgument for a message that cannot be encoded (a key,
// id or header that is not UTF-8); ErrPublisherClosed after Close; the
// broker's status for a refused request (codes.NotFound for a missing
// topic, codes.InvalidArgument for a partition out of range or a message
// over the broker's size limit, codes.ResourceExhausted...); the stream's
// status when it fails with a code retrying cannot fix, or when
// WithReconnect's MaxAttempts attempts failed; a codes.Canceled status when
// Close gave up waiting; ctx's error when ctx ends first. A Send whose ctx
// ends while it waits for room is withdrawn: its message is not stored.
// Once the message is in a request, ctx no longer withdraws it: it goes out
// in its turn and may be stored (give it your own MessageID to publish it
// again safely). The publisher keeps m.Payload and m.Headers until the
// broker answered: do not change them before.
func (p *Publisher) Send(ctx context.Context, m Message) (PublishResult, error) {
	if err := checkMessage(m); err != nil {
		return PublishResult{}, err
	}
	s := &sendCall{msg: toWire(m, p.nextID())}
	s.bytes = wireBytes(s.msg)
	p.mu.Lock()
	if err := p.admit(ctx); err != nil {
		p.mu.Unlock()
		return PublishResult{}, err
	}
	p.calls.add(&s.call)
	if p.bound.acquire(s) {
		p.accept(s)
	}
	p.mu.Unlock()
	select {
	case <-s.done:
		return s.result, s.err
	case <-ctx.Done():
		p.withdraw(ctx.Err(), func(it item) bool { return it == item(s) })
		select {
		case <-s.done:
			return s.result, s.err
		default:
			return PublishResult{}, ctx.Err()
		}
	}
}

// SendBatch publishes msgs, in order, and returns where each was stored,
// once all are: what Send does for each, with one call. A large batch goes
// out as several requests of at most WithMaxBatchMessages and
// WithMaxBatchBytes (and through the unconfirmed bounds in parts, so a
// batch larger than them does not wait forever); its last request goes out
// without waiting for the linger. An empty batch returns an empty result.
//
// Errors are a *SendBatchError, whose Index is the first message not
// stored and whose Results say which were: codes.InvalidArgument for a
// message that cannot be encoded, before any is sent; ErrPublisherClosed
// after Close; the broker's status for a refused request (the other
// requests of the batch may have been stored); the stream's status as for
// Send; ctx's error when ctx ends first, returned at once: the parts still
// waiting for room are withdrawn, the others go on and may be stored.
func (p *Publisher) SendBatch(ctx context.Context, msgs []Message) ([]PublishResult, error) {
	wire := make([]*sluicev1.PublishMessage, len(msgs))
	sizes := make([]int, len(msgs))
	for i, m := range msgs {
		if problem := messageProblem(m); problem != "" {
			return nil, noneStored(status.Errorf(codes.InvalidArgument, "sluice: message %d of the batch: %s", i, problem), len(msgs), i)
		}
		wire[i] = toWire(m, p.nextID())
		sizes[i] = wireBytes(wire[i])
	}
	b := newBatchCall(wire)
	p.mu.Lock()
	if err := p.admit(ctx); err != nil {
		p.mu.Unlock()
		return nil, noneStored(err, len(msgs), 0)
	}
	if len(msgs) == 0 {
		p.mu.Unlock()
		return []PublishResult{}, nil
	}
	p.calls.add(&b.call)
	maxMessages, maxBytes := p.cfg.partLimits()
	for start := 0; start < len(wire); {
		part := nextPart(b, start, sizes, maxMessages, maxBytes)
		start = part.end
		if p.bound.acquire(part) {
			p.accept(part)
		}
	}
	p.mu.Unlock()
	select {
	case <-b.done:
		return b.outcome()
	case <-ctx.Done():
	}
	p.withdraw(ctx.Err(), func(it item) bool { part, ok := it.(*batchPart); return ok && part.batch == b })
	select {
	case <-b.done:
		return b.outcome()
	default:
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	index, err := b.firstUnconfirmed(), ctx.Err()
	if b.err != nil && b.failedAt == index {
		err = b.err
	}
	return nil, b.failure(err, index)
}

// Flush sends the open request at once and waits until every Send and
// SendBatch made before it has its outcome (stored or failed; each call
// reports its own). Errors: only ctx's error, when ctx ends first.
func (p *Publisher) Flush(ctx context.Context) error {
	p.mu.Lock()
	done := p.calls.waitAll()
	p.seal()
	p.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking messages (later calls fail with ErrPublisherClosed),
// sends the open request, waits until every pending message is confirmed
// or failed (through reconnections if needed), then ends the stream. If
// ctx ends first, Close cancels the stream, fails what is still pending
// with a codes.Canceled status (those messages may have been stored) and
// returns ctx's error. Every goroutine of the publisher has ended when
// Close returns. Closing again returns nil.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.state == stateOpen {
		p.state = stateClosing
		p.seal()
		p.poke() // the writer ends the stream once nothing is pending
	}
	p.mu.Unlock()
	var err error
	select {
	case <-p.stopped:
	case <-ctx.Done():
		err = ctx.Err()
		p.abortOnce.Do(func() { close(p.abort); p.cancel() })
		<-p.stopped
	}
	p.mu.Lock()
	p.state = stateClosed
	p.failAll(errClosedEarly)
	p.mu.Unlock()
	p.cancel()
	return err
}

// admit checks that a call may start; p.mu must be held.
func (p *Publisher) admit(ctx context.Context) error {
	if p.state != stateOpen {
		return ErrPublisherClosed
	}
	return ctx.Err()
}

func (p *Publisher) nextID() string {
	if !p.cfg.autoMessageID {
		return ""
	}
	return p.ids.next()
}

// withdraw fails with err the items that match and still wait for room in
// the unconfirmed bound: they were never sent.
func (p *Publisher) withdraw(err error, match func(item) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.settleItems(p.bound.withdraw(match, p.accept), nil, err)
	p.pokeIfDrained()
}
