package sluice

import (
	"context"
	"io"
	"math/rand/v2"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
)

type subscribeStream = grpc.BidiStreamingClient[sluicev1.SubscribeRequest, sluicev1.SubscribeResponse]

// errSubscriptionEnded is why a stream that the broker ended without an
// error, unasked, is reopened.
var errSubscriptionEnded = status.Error(codes.Unavailable, "sluice: the broker ended the subscription stream")

// subscribeConn is one stream the broker answered with `subscribed`.
type subscribeConn struct {
	stream subscribeStream
	cancel context.CancelFunc // ends the stream
	info   *sluicev1.SubscribeResponse_Subscribed
}

// connect opens a stream, sends the open request and waits for the
// broker's `subscribed`. Errors: the stream's status, or codes.Internal for
// another first answer.
func (s *Subscription) connect() (*subscribeConn, error) {
	ctx, cancel := context.WithCancel(s.ctx)
	stream, err := s.client.broker.Subscribe(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	// A failed Send reports io.EOF; the real status comes from Recv.
	if err := stream.Send(s.open); err != nil && err != io.EOF {
		cancel()
		return nil, err
	}
	first, err := stream.Recv()
	if err != nil {
		cancel()
		return nil, err
	}
	if first.GetSubscribed() == nil {
		cancel()
		return nil, status.Errorf(codes.Internal, "sluice: expected subscribed, got %T", first.GetResponse())
	}
	return &subscribeConn{stream: stream, cancel: cancel, info: first.GetSubscribed()}, nil
}

// run is the subscription's reader goroutine. It serves conn until it
// breaks, then opens streams after the backoff for as long as the failures
// are retryable, numbering them from 1; it returns when the subscription is
// over, having closed deliveries and done.
func (s *Subscription) run(conn *subscribeConn) {
	failures := 0
	var err error
	for n := uint64(1); ; n++ {
		if conn != nil {
			failures = 0 // the broker answered: the backoff starts over
			err = s.serve(conn, n)
		}
		failures++
		if !s.retry(err, failures) || !sleep(s.policy.delay(failures, rand.Float64()), s.closing, s.ctx.Done()) {
			break
		}
		conn, err = s.connect()
	}
	s.end(err)
}

// serve runs stream number n until it ends, with a sender goroutine of its
// own, and returns why it ended (errSubscriptionEnded if the broker ended
// it unasked).
func (s *Subscription) serve(conn *subscribeConn, n uint64) error {
	s.mu.Lock()
	s.info, s.consumerID = conn.info, conn.info.GetConsumerId()
	s.mu.Unlock()
	s.keepAcksOnly()
	s.live.Store(n)
	stop, sent := make(chan struct{}), make(chan struct{})
	go s.sendLoop(conn.stream, stop, sent)
	s.poke() // acks taken while there was no stream
	err := s.read(conn.stream, n)
	s.live.Store(0)
	s.mu.Lock()
	s.consumerID = ""
	s.mu.Unlock()
	close(stop)
	conn.cancel() // also releases a Send blocked on the broken stream
	<-sent
	if err == io.EOF && !s.isClosing() {
		err = errSubscriptionEnded
	}
	return err
}

// read hands the deliveries of stream number n to Next until the stream
// ends, and returns its error (io.EOF when the broker ended it cleanly).
func (s *Subscription) read(stream subscribeStream, n uint64) error {
	for {
		res, err := stream.Recv()
		if err != nil {
			return err
		}
		batch := res.GetDeliveries()
		if batch == nil {
			continue
		}
		deadline := batch.GetDeadline().AsTime()
		for _, d := range batch.GetDeliveries() {
			select {
			case s.deliveries <- newDelivery(s, n, d, deadline):
			case <-s.closing:
			case <-s.ctx.Done():
			}
		}
	}
}

// retry reports whether to open another stream after failures failed in a
// row, the last with err.
func (s *Subscription) retry(err error, failures int) bool {
	if s.isClosing() || s.ctx.Err() != nil || s.client.conn.GetState() == connectivity.Shutdown {
		return false
	}
	return retryable(err) && (s.policy.MaxAttempts == 0 || failures <= s.policy.MaxAttempts)
}

// end records why the subscription is over and releases Next and Close.
// A stream ended by Close, or a reconnection Close stopped, ends it with
// io.EOF; a reconnection the Subscribe context stopped, with the
// context's status, as the stream would have.
func (s *Subscription) end(err error) {
	switch {
	case s.isClosing() && (err == nil || err == io.EOF || retryable(err)):
		err = io.EOF
	case s.parent.Err() != nil && retryable(err):
		err = status.FromContextError(s.parent.Err()).Err()
	}
	s.err = err
	s.stopSending()
	s.cancel()
	close(s.deliveries)
	close(s.done)
}

func (s *Subscription) isClosing() bool { return isClosed(s.closing) }
