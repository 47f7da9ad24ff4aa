package sluice

import (
	"runtime"
	"time"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
)

// item is what the unconfirmed bound, the open request and the requests on
// the wire carry, in call order: one Send's message (*sendCall), or
// consecutive messages of one SendBatch (*batchPart).
type item interface {
	// weight is the item's estimated bytes and its message count.
	weight() (bytes, messages int)
	// appendTo appends the item's messages, in order.
	appendTo([]*sluicev1.PublishMessage) []*sluicev1.PublishMessage
	// settle records the outcome of the item's messages, one result per
	// message or err; it returns the item's call once that call has all its
	// outcomes, else nil.
	settle(results []*sluicev1.PublishResult, err error) *call
	// urgent reports whether the item's request should go out without
	// waiting for the linger.
	urgent() bool
}

// sealedRequest is one PublishStream request from sealing to its answer.
type sealedRequest struct {
	items    []item
	bytes    int
	messages int
	req      *sluicev1.PublishStreamRequest
}

// The methods below make a publisher's batcher; p.mu must be held.

// accept adds an item that holds room in the unconfirmed bound to the open
// request. A request is sealed when it is full (an item that would take it
// past a bound seals it first), when its linger is up, or, after an urgent
// item, with linger 0, while closing or flushing, as soon as the writer looks.
func (p *Publisher) accept(it item) {
	bytes, n := it.weight()
	if p.openMessages > 0 && (p.openBytes+bytes > p.cfg.maxBatchBytes || p.openMessages+n > p.cfg.maxBatchMessages) {
		p.seal()
	}
	p.open = append(p.open, it)
	p.openBytes += bytes
	p.openMessages += n
	switch {
	case p.openMessages >= p.cfg.maxBatchMessages || p.openBytes >= p.cfg.maxBatchBytes:
		p.seal()
	case it.urgent() || p.cfg.linger == 0 || p.state != stateOpen || p.calls.flushing():
		p.hurry = true
		p.poke()
	case len(p.open) == 1:
		p.startLinger()
	}
}

// seal turns the open request, if any, into a sealed request queued for the writer.
func (p *Publisher) seal() {
	p.hurry = false
	if p.lingerTimer != nil {
		p.lingerTimer.Stop()
		p.lingerTimer = nil
	}
	if len(p.open) == 0 {
		return
	}
	msgs := make([]*sluicev1.PublishMessage, 0, p.openMessages)
	for _, it := range p.open {
		msgs = it.appendTo(msgs)
	}
	p.nextRequestID++
	p.queued = append(p.queued, &sealedRequest{
		items: p.open, bytes: p.openBytes, messages: p.openMessages,
		req: &sluicev1.PublishStreamRequest{RequestId: p.nextRequestID, Topic: p.topic, Messages: msgs},
	})
	p.open, p.openBytes, p.openMessages = nil, 0, 0
	p.poke()
}

// sealHurried seals the open request if it is not to wait for its linger.
func (p *Publisher) sealHurried() {
	if p.hurry {
		p.seal()
	}
}

// lockAndSealHurried locks p.mu and seals the open request if it is not to
// wait for its linger, having first let the goroutines that are ready to run
// add to it (yielding while they do, up to 8 times): otherwise, with linger
// 0, the writer (woken by the first of the callers that one response
// released) would run before the others and send each message alone.
func (p *Publisher) lockAndSealHurried() {
	p.mu.Lock()
	if !p.hurry {
		return
	}
	for range 8 {
		n := p.openMessages
		p.mu.Unlock()
		runtime.Gosched()
		p.mu.Lock()
		if p.openMessages == n {
			break
		}
	}
	p.sealHurried()
}

// startLinger starts the open request's linger timer, which the writer
// waits on (lingerC).
func (p *Publisher) startLinger() {
	p.lingerTimer = time.NewTimer(p.cfg.linger)
	p.poke() // to wait on it
}

// lingerC is the channel of the open request's linger timer; nil when none runs.
func (p *Publisher) lingerC() <-chan time.Time {
	if p.lingerTimer == nil {
		return nil
	}
	return p.lingerTimer.C
}

// lingered seals the open request if its linger timer, whose channel is c,
// fired (a stopped timer sends nothing; a replaced one is another's).
func (p *Publisher) lingered(c <-chan time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lingerC() == c {
		p.seal()
	}
}

// poke wakes the writer.
func (p *Publisher) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// idle reports whether nothing is pending: no waiting, open, queued or unanswered message.
func (p *Publisher) idle() bool {
	return len(p.bound.waiting) == 0 && len(p.open) == 0 && len(p.queued) == 0 && len(p.inflight) == 0
}

// settleItems records the outcome of items and settles the calls that are complete.
func (p *Publisher) settleItems(items []item, results []*sluicev1.PublishResult, err error) {
	for _, it := range items {
		var rs []*sluicev1.PublishResult
		if err == nil {
			_, n := it.weight()
			rs, results = results[:n], results[n:]
		}
		if c := it.settle(rs, err); c != nil {
			p.calls.settle(c)
		}
	}
}
