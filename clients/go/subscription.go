package sluice

import (
	"context"
	"errors"
	"io"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrSubscriptionClosed is returned by the ack verbs of a delivery whose
// subscription is closed or over.
var ErrSubscriptionClosed = errors.New("sluice: subscription is closed")

// ErrStaleDelivery is returned by Nack and Extend of a delivery that came on
// a stream that has since broken: the broker gave the message back to the
// group when that stream ended and delivers it again.
var ErrStaleDelivery = errors.New("sluice: the delivery's stream broke; the broker gave the message back to the group")

// closeTimeout bounds how long Close waits for the broker to end the stream.
const closeTimeout = 10 * time.Second

// Subscription is a consumer group's subscription to a topic, over one
// Subscribe stream at a time.
//
// Next returns its deliveries one at a time (from one goroutine at a time);
// the ack verbs of a Delivery may be called from any goroutine and are sent
// on the stream in the order they are made, by a goroutine of the
// subscription: acks made while it sends go out together in one request,
// so acking each message does not cost a request each.
//
// When the stream breaks with a retryable status (codes.Unavailable,
// codes.Internal, codes.Unknown, codes.DeadlineExceeded, or codes.Canceled
// not caused by Close or the Subscribe context), as when the broker
// restarts, the subscription opens a new stream with the same topic, group
// and options after jittered exponential backoff (WithSubscribeReconnect),
// and Next goes on with its deliveries. Deliveries of the broken stream not
// yet taken by Next are dropped: the broker gave them back to the group and
// delivers them again. See Delivery for what their ack verbs do.
//
// The subscription ends at Close, when the context given to Subscribe ends,
// when the stream fails with a status retrying cannot fix (codes.Aborted
// when the group is deleted, codes.NotFound, codes.PermissionDenied,
// codes.InvalidArgument...), or when MaxAttempts reconnections in a row
// failed; Next then returns why.
type Subscription struct {
	client *Client
	open   *sluicev1.SubscribeRequest // sent first on every stream
	policy ReconnectPolicy
	parent context.Context    // the Subscribe context
	ctx    context.Context    // parent's child, cancelled by Close
	cancel context.CancelFunc // cancels ctx

	mu         sync.Mutex
	info       *sluicev1.SubscribeResponse_Subscribed // the latest stream's
	consumerID string                                 // "" between streams
	live       atomic.Uint64                          // the subscribed stream's number; 0 between streams

	deliveries chan *Delivery // closed by run when the subscription is over
	closing    chan struct{}  // closed by Close: the reader drops deliveries
	closeOnce  sync.Once
	done       chan struct{} // closed when run has returned
	err        error         // why it ended; written before deliveries closes

	sendMu     sync.Mutex
	sendClosed bool                         // no more requests are taken
	pending    []*sluicev1.SubscribeRequest // taken, not yet sent
	wake       chan struct{}                // cap 1: pending changed or sendClosed was set
}

// Subscribe opens a subscription of group to topic and returns once the
// broker answered with `subscribed` (the group is created on first use).
// Cancelling ctx ends the subscription. The first stream is not retried:
// errors are the broker's (codes.NotFound for no such topic,
// codes.InvalidArgument for bad names or settings), codes.Unavailable when
// the broker cannot be reached, and codes.InvalidArgument for a bad
// WithSubscribeReconnect policy. Later streams reconnect (see Subscription).
func (c *Client) Subscribe(ctx context.Context, topic, group string, opts ...SubscribeOption) (*Subscription, error) {
	cfg := subscribeConfig{open: &sluicev1.SubscribeRequest_Open{Topic: topic, Group: group}, reconnect: DefaultReconnectPolicy}
	for _, opt := range opts {
		opt(&cfg)
	}
	if err := cfg.reconnect.check(); err != nil {
		return nil, err
	}
	subCtx, cancel := context.WithCancel(ctx)
	s := &Subscription{
		client:     c,
		open:       &sluicev1.SubscribeRequest{Request: &sluicev1.SubscribeRequest_Open_{Open: cfg.open}},
		policy:     cfg.reconnect,
		parent:     ctx,
		ctx:        subCtx,
		cancel:     cancel,
		deliveries: make(chan *Delivery, 64),
		closing:    make(chan struct{}),
		done:       make(chan struct{}),
		wake:       make(chan struct{}, 1),
	}
	conn, err := s.connect()
	if err != nil {
		cancel()
		return nil, err
	}
	s.info, s.consumerID = conn.info, conn.info.GetConsumerId()
	s.live.Store(1) // before run does: a Close right now ends the stream gracefully
	go s.run(conn)
	return s, nil
}

// ConsumerID is the current stream's id within the group, as GetGroup shows
// it. Each reconnection gets a new id; it is "" while reconnecting and once
// the subscription is over.
func (s *Subscription) ConsumerID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.consumerID
}

// Partitions is the topic's partition count, as the latest stream was told.
func (s *Subscription) Partitions() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info.GetPartitions()
}

// Settings are the group's settings in force, as the latest stream was told.
func (s *Subscription) Settings() *sluicev1.GroupSettings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info.GetSettings()
}

// Next returns the next delivery, waiting through reconnections. It returns
// io.EOF once the subscription is over after Close; the stream's status
// error if it ended with a status retrying cannot fix (e.g. codes.Aborted
// when the group was deleted) or after MaxAttempts failed reconnections
// (e.g. codes.Unavailable); a codes.Canceled or codes.DeadlineExceeded
// status when the Subscribe context ended; and ctx's error if ctx ends
// first (the subscription stays open).
func (s *Subscription) Next(ctx context.Context) (*Delivery, error) {
	for {
		select {
		case d, ok := <-s.deliveries:
			if !ok {
				return nil, s.err
			}
			if d.stream != s.live.Load() {
				continue // its stream broke: the broker delivers it again
			}
			return d, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// All iterates the deliveries as Next returns them, until an error; the
// last pair carries the error, unless it is io.EOF.
func (s *Subscription) All(ctx context.Context) iter.Seq2[*Delivery, error] {
	return func(yield func(*Delivery, error) bool) {
		for {
			d, err := s.Next(ctx)
			if err == io.EOF {
				return
			}
			if !yield(d, err) || err != nil {
				return
			}
		}
	}
}

// Close sends what is pending, half-closes the stream and waits (at most 10 s,
// then cancels) for the broker to end it; unacked messages go back to the
// group. While the subscription is reconnecting Close stops it at once.
// Deliveries not yet taken by Next are dropped. Every goroutine of the
// subscription has ended when Close returns. Close returns nil, or the
// error the subscription had ended with before (see Next); closing twice
// does nothing.
func (s *Subscription) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.stopSending()
		if s.live.Load() == 0 {
			s.cancel() // no stream to end gracefully: stop reconnecting now
		}
		timer := time.NewTimer(closeTimeout)
		defer timer.Stop()
		select {
		case <-s.done:
		case <-timer.C:
			s.cancel()
			<-s.done
		}
		s.cancel()
		for range s.deliveries {
		}
	})
	if s.err == io.EOF || status.Code(s.err) == codes.Canceled {
		return nil
	}
	return s.err
}
