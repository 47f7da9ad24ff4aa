package sluice

import (
	"context"
	"errors"
	"io"
	"iter"
	"sync"
	"time"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrSubscriptionClosed is returned by the ack verbs of a delivery whose
// subscription is closed or over.
var ErrSubscriptionClosed = errors.New("sluice: subscription is closed")

// closeTimeout bounds how long Close waits for the broker to end the stream.
const closeTimeout = 10 * time.Second

// maxAckPositions caps the positions merged into one ack request (~40 KB).
const maxAckPositions = 4096

// SubscribeOption sets an optional part of a Subscribe call.
type SubscribeOption func(*sluicev1.SubscribeRequest_Open)

// WithMaxInFlight caps the unacknowledged messages of this stream (broker default 100).
func WithMaxInFlight(n uint32) SubscribeOption {
	return func(o *sluicev1.SubscribeRequest_Open) { o.MaxInFlight = n }
}

// WithStart sets where the group starts, if this subscription creates it.
func WithStart(start *sluicev1.StartPosition) SubscribeOption {
	return func(o *sluicev1.SubscribeRequest_Open) { o.Start = start }
}

// WithAckDeadline sets the group's ack deadline, if this subscription creates it.
func WithAckDeadline(d time.Duration) SubscribeOption {
	return func(o *sluicev1.SubscribeRequest_Open) { o.Settings = settings(d) }
}

// WithConsumerName names this consumer in GetGroup.
func WithConsumerName(name string) SubscribeOption {
	return func(o *sluicev1.SubscribeRequest_Open) { o.ConsumerName = name }
}

// Subscription is one open Subscribe stream of a consumer group.
//
// Next returns its deliveries one at a time (from one goroutine at a time);
// the ack verbs of a Delivery may be called from any goroutine and are sent
// on the same stream in the order they are made, by a goroutine of the
// subscription: acks made while it sends go out together in one request,
// so acking each message does not cost a request each. The stream lives until
// Close, until the context given to Subscribe is cancelled, or until the
// broker ends it (for example with codes.Aborted when the group is deleted).
type Subscription struct {
	stream grpc.BidiStreamingClient[sluicev1.SubscribeRequest, sluicev1.SubscribeResponse]
	cancel context.CancelFunc
	info   *sluicev1.SubscribeResponse_Subscribed

	deliveries chan *Delivery // closed by the reader when the stream is over
	closing    chan struct{}  // closed by Close: the reader drops deliveries
	closeOnce  sync.Once
	err        error // why the stream ended; written before deliveries closes

	sendMu     sync.Mutex
	sendClosed bool                         // no more requests are taken
	pending    []*sluicev1.SubscribeRequest // taken, not yet sent
	wake       chan struct{}                // cap 1: pending changed or sendClosed was set
	sent       chan struct{}                // closed when the sender has stopped
}

// Subscribe opens a subscription of group to topic and returns once the
// broker answered with `subscribed` (the group is created on first use).
// Cancelling ctx ends the subscription. Errors: codes.NotFound (no such
// topic), codes.InvalidArgument (bad names or settings).
func (c *Client) Subscribe(ctx context.Context, topic, group string, opts ...SubscribeOption) (*Subscription, error) {
	open := &sluicev1.SubscribeRequest_Open{Topic: topic, Group: group}
	for _, opt := range opts {
		opt(open)
	}
	streamCtx, cancel := context.WithCancel(ctx)
	stream, err := c.broker.Subscribe(streamCtx)
	if err != nil {
		cancel()
		return nil, err
	}
	if err := stream.Send(&sluicev1.SubscribeRequest{Request: &sluicev1.SubscribeRequest_Open_{Open: open}}); err != nil && err != io.EOF {
		cancel()
		return nil, err
	}
	// A failed Send reports io.EOF; the real status comes from Recv.
	first, err := stream.Recv()
	if err != nil {
		cancel()
		return nil, err
	}
	if first.GetSubscribed() == nil {
		cancel()
		return nil, status.Errorf(codes.Internal, "sluice: expected subscribed, got %T", first.GetResponse())
	}
	s := &Subscription{
		stream:     stream,
		cancel:     cancel,
		info:       first.GetSubscribed(),
		deliveries: make(chan *Delivery, 64),
		closing:    make(chan struct{}),
		wake:       make(chan struct{}, 1),
		sent:       make(chan struct{}),
	}
	go s.read()
	go s.sendLoop()
	return s, nil
}

// ConsumerID is this stream's id within the group, as GetGroup shows it.
func (s *Subscription) ConsumerID() string { return s.info.GetConsumerId() }

// Partitions is the topic's partition count.
func (s *Subscription) Partitions() uint32 { return s.info.GetPartitions() }

// Settings are the group's settings in force.
func (s *Subscription) Settings() *sluicev1.GroupSettings { return s.info.GetSettings() }

// Next returns the next delivery. It returns io.EOF once the stream is over
// after Close, the broker's status error if the broker ended it with one,
// and ctx's error if ctx ends first (the subscription stays open).
func (s *Subscription) Next(ctx context.Context) (*Delivery, error) {
	select {
	case d, ok := <-s.deliveries:
		if !ok {
			return nil, s.err
		}
		return d, nil
	case <-ctx.Done():
		return nil, ctx.Err()
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
// group. Deliveries not yet taken by Next are dropped. Close returns nil, or
// the error the stream had ended with before; closing twice does nothing.
func (s *Subscription) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.stopSending()
		timer := time.NewTimer(closeTimeout)
		defer timer.Stop()
		// The sender sends what is pending, then half-closes.
		select {
		case <-s.sent:
		case <-timer.C:
			s.cancel()
		}
		for {
			select {
			case _, ok := <-s.deliveries:
				if ok {
					continue
				}
			case <-timer.C:
				s.cancel()
				for range s.deliveries {
				}
			}
			break
		}
		s.cancel()
	})
	if s.err == io.EOF || status.Code(s.err) == codes.Canceled {
		return nil
	}
	return s.err
}

func (s *Subscription) read() {
	defer close(s.deliveries)
	for {
		res, err := s.stream.Recv()
		if err != nil {
			s.err = err
			s.stopSending()
			return
		}
		batch := res.GetDeliveries()
		if batch == nil {
			continue
		}
		deadline := batch.GetDeadline().AsTime()
		for _, d := range batch.GetDeliveries() {
			select {
			case s.deliveries <- newDelivery(s, d, deadline):
			case <-s.closing:
			}
		}
	}
}

// send queues req for the sender, merging an ack into an ack queued just
// before it. It returns ErrSubscriptionClosed once the subscription is
// closed or over; a failure to send ends the stream, which Next reports.
func (s *Subscription) send(req *sluicev1.SubscribeRequest) error {
	s.sendMu.Lock()
	if s.sendClosed {
		s.sendMu.Unlock()
		return ErrSubscriptionClosed
	}
	merged := false
	if ack, n := req.GetAck(), len(s.pending); ack != nil && n > 0 {
		if last := s.pending[n-1].GetAck(); last != nil && len(last.Positions)+len(ack.Positions) <= maxAckPositions {
			last.Positions = append(last.Positions, ack.Positions...)
			merged = true
		}
	}
	if !merged {
		s.pending = append(s.pending, req)
	}
	s.sendMu.Unlock()
	s.poke()
	return nil
}

// stopSending takes no more requests; the sender sends what is pending and stops.
func (s *Subscription) stopSending() {
	s.sendMu.Lock()
	s.sendClosed = true
	s.sendMu.Unlock()
	s.poke()
}

func (s *Subscription) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sendLoop is the only goroutine that sends on the stream: it sends what is
// pending each time it is woken, and half-closes once sending stopped.
func (s *Subscription) sendLoop() {
	defer close(s.sent)
	for range s.wake {
		s.sendMu.Lock()
		batch, stopped := s.pending, s.sendClosed
		s.pending = nil
		s.sendMu.Unlock()
		for _, req := range batch {
			if err := s.stream.Send(req); err != nil {
				// The stream is over; Recv reports why.
				s.stopSending()
				return
			}
		}
		if stopped {
			_ = s.stream.CloseSend()
			return
		}
	}
}
