package sluice

import (
	"io"
	"math/rand/v2"
	"time"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
)

type publishStream = grpc.BidiStreamingClient[sluicev1.PublishStreamRequest, sluicev1.PublishStreamResponse]

// errStreamEnded is why a stream that the broker ended without an error,
// unasked, is reopened.
var errStreamEnded = status.Error(codes.Unavailable, "sluice: the broker ended the publish stream")

// run is the publisher's writer goroutine. It opens a stream once a request
// is queued, writes requests in order, and when the stream breaks puts the
// unanswered requests back at the front of the queue and, for a retryable
// status, opens another after the backoff; otherwise it fails everything
// pending with the stream's status. It returns once the publisher is closing
// and nothing is pending (after ending the stream), or when Close gives up.
func (p *Publisher) run() {
	defer close(p.stopped)
	failures := 0
	for p.awaitWork() {
		if failures > 0 && !sleep(p.cfg.reconnect.delay(failures, rand.Float64()), p.abort, nil) {
			return
		}
		answered, err := p.serve()
		if err == nil {
			return
		}
		if answered {
			failures = 0
		}
		failures++
		retry := retryable(err) && p.client.conn.GetState() != connectivity.Shutdown &&
			(p.cfg.reconnect.MaxAttempts == 0 || failures <= p.cfg.reconnect.MaxAttempts)
		p.mu.Lock()
		p.queued = append(p.inflight, p.queued...)
		p.inflight = nil
		if !retry {
			failures = 0
			p.failAll(err)
		}
		p.mu.Unlock()
	}
}

// awaitWork waits until a request is queued (true), or until the publisher
// is closing with nothing pending or Close gave up (false).
func (p *Publisher) awaitWork() bool {
	for {
		p.lockAndSealHurried()
		work, done, linger := len(p.queued) > 0, p.state != stateOpen && p.idle(), p.lingerC()
		p.mu.Unlock()
		switch {
		case work:
			return true
		case done:
			return false
		}
		select {
		case <-p.wake:
		case <-linger:
			p.lingered(linger)
		case <-p.abort:
			return false
		}
	}
}

// serve runs one stream until it ends: nil once the publisher closed it
// with nothing pending, else why it broke. answered reports whether the
// broker answered on it (the connection worked: the backoff starts over).
func (p *Publisher) serve() (answered bool, err error) {
	stream, err := p.client.broker.PublishStream(p.ctx)
	if err != nil {
		return false, err
	}
	read := make(chan error, 1)
	answers := make(chan struct{})
	go func() { read <- p.read(stream, answers) }()
	writable, ending := true, false
	var endTimer <-chan time.Time
	for {
		p.lockAndSealHurried()
		batch := p.queued
		if writable {
			p.inflight = append(p.inflight, batch...)
			p.queued = nil
		}
		end := writable && !ending && p.state != stateOpen && p.idle()
		linger := p.lingerC()
		p.mu.Unlock()
		for i := 0; writable && i < len(batch); i++ {
			// A failed Send means the stream is over; read reports why.
			writable = stream.Send(batch[i].req) == nil
		}
		if end {
			ending, writable = true, false
			_ = stream.CloseSend()
			t := time.NewTimer(closeTimeout)
			defer t.Stop()
			endTimer = t.C
		}
		select {
		case <-p.wake:
		case <-linger:
			p.lingered(linger)
		case err := <-read:
			if err == io.EOF {
				if ending {
					return true, nil
				}
				err = errStreamEnded
			}
			return isClosed(answers), err
		case <-endTimer:
			// A broker that never ends the stream must not hold Close forever.
			p.cancel()
		}
	}
}

// read receives the responses of one stream and settles their requests
// until the stream ends; it closes answers at the first response.
func (p *Publisher) read(stream publishStream, answers chan struct{}) error {
	for first := true; ; first = false {
		res, err := stream.Recv()
		if err != nil {
			return err
		}
		if first {
			close(answers)
		}
		p.mu.Lock()
		p.answer(res)
		p.mu.Unlock()
	}
}

// answer settles the request res answers; p.mu must be held. Responses come
// in request order, so it is normally the first in flight.
func (p *Publisher) answer(res *sluicev1.PublishStreamResponse) {
	i := 0
	for i < len(p.inflight) && p.inflight[i].req.GetRequestId() != res.GetRequestId() {
		i++
	}
	if i == len(p.inflight) {
		return // not a request of this publisher's: nothing to settle
	}
	r := p.inflight[i]
	copy(p.inflight[1:i+1], p.inflight[:i])
	p.inflight[0] = nil
	p.inflight = p.inflight[1:]
	var err error
	if e := res.GetError(); e != nil {
		code := codes.Code(e.GetCode())
		if code == codes.OK {
			code = codes.Unknown
		}
		err = status.Error(code, e.GetMessage())
	} else if got := len(res.GetResults()); got != r.messages {
		err = status.Errorf(codes.Internal, "sluice: the broker returned %d results for %d messages", got, r.messages)
	}
	p.settleItems(r.items, res.GetResults(), err)
	p.bound.release(r.bytes, r.messages, p.accept)
	p.pokeIfDrained()
}

// pokeIfDrained wakes the writer to end the stream once a closing
// publisher has nothing pending; p.mu must be held.
func (p *Publisher) pokeIfDrained() {
	if p.state != stateOpen && p.idle() {
		p.poke()
	}
}

// failAll fails every pending message with err, in call order; p.mu must be held.
func (p *Publisher) failAll(err error) {
	p.seal()
	requests := append(p.inflight, p.queued...)
	p.inflight, p.queued = nil, nil
	for _, r := range requests {
		p.settleItems(r.items, nil, err)
	}
	p.settleItems(p.bound.reset(), nil, err)
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
