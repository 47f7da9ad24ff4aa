package sluice

import (
	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
)

// maxAckPositions caps the positions merged into one ack request (~40 KB).
const maxAckPositions = 4096

// send queues req for the sender, merging an ack into an ack queued just
// before it. A nonzero stream is the number of the stream whose lease req
// is about: once that stream is over, req is refused with
// ErrStaleDelivery. It returns ErrSubscriptionClosed once the subscription
// is closed or over. Requests taken while there is no stream wait for the
// next one.
func (s *Subscription) send(req *sluicev1.SubscribeRequest, stream uint64) error {
	s.sendMu.Lock()
	if s.sendClosed {
		s.sendMu.Unlock()
		return ErrSubscriptionClosed
	}
	if stream != 0 && stream != s.live.Load() {
		s.sendMu.Unlock()
		return ErrStaleDelivery
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

// keepAcksOnly drops the nacks and extensions still pending when a stream
// broke: they were about leases of that stream, which the broker released.
// Acks are by position and go on the next stream.
func (s *Subscription) keepAcksOnly() {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	kept := s.pending[:0]
	for _, req := range s.pending {
		if req.GetAck() != nil {
			kept = append(kept, req)
		}
	}
	clear(s.pending[len(kept):])
	s.pending = kept
}

// requeue puts requests a broken stream did not take back in front of the
// pending ones.
func (s *Subscription) requeue(reqs []*sluicev1.SubscribeRequest) {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.pending = append(append([]*sluicev1.SubscribeRequest(nil), reqs...), s.pending...)
}

// stopSending takes no more requests; the sender sends what is pending,
// half-closes and stops.
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

// sendLoop is the only goroutine that sends on stream: it sends what is
// pending each time it is woken, half-closes once sending stopped, and
// returns then, when a Send fails (the stream broke: the reader reports
// why) or when stop is closed. It closes sent when it returns.
func (s *Subscription) sendLoop(stream subscribeStream, stop <-chan struct{}, sent chan<- struct{}) {
	defer close(sent)
	for {
		select {
		case <-s.wake:
		case <-stop:
			return
		}
		s.sendMu.Lock()
		batch, stopped := s.pending, s.sendClosed
		s.pending = nil
		s.sendMu.Unlock()
		for i, req := range batch {
			if err := stream.Send(req); err != nil {
				s.requeue(batch[i:])
				return
			}
		}
		if stopped {
			_ = stream.CloseSend()
			return
		}
	}
}
