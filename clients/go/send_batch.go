package sluice

import (
	"fmt"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
)

// SendBatchError is how Publisher.SendBatch fails: which messages were
// stored, and why the first one that was not failed.
//
// The broker refuses a request whole, so a message of a refused request was
// not stored; a large batch goes out as several requests, so some may be
// stored and others refused, and Results says which. A message that was on
// the wire when the call ended by its context, or when reconnection gave
// up, may have been stored without Results showing it: give messages your
// own MessageID to publish them again safely (the broker answers a repeat
// within the topic's dedupe window with Duplicate set).
type SendBatchError struct {
	// Index is the position in the batch of the first message whose storing
	// was not confirmed; Err is its error. 0 when the call was refused as a
	// whole (a closed publisher).
	Index int
	// Results has one entry per message, in batch order: where it was
	// stored, or nil when its storing was not confirmed.
	Results []*PublishResult
	// Err is the error of the message at Index: a gRPC status error (the
	// broker's code for a refused request, codes.InvalidArgument for a
	// malformed message, codes.FailedPrecondition once the publisher is
	// closed, the stream's error when reconnection gave up), or the context's
	// error.
	Err error
}

// Error describes the failure and where it happened.
func (e *SendBatchError) Error() string {
	return fmt.Sprintf("sluice: batch not stored from message %d: %v", e.Index, e.Err)
}

// Unwrap returns Err, so that status.Code(err) and errors.Is(err,
// context.Canceled) see it.
func (e *SendBatchError) Unwrap() error { return e.Err }

// noneStored is the error of a batch of size messages none of which was stored.
func noneStored(err error, size, index int) *SendBatchError {
	return &SendBatchError{Index: index, Results: make([]*PublishResult, size), Err: err}
}

// sendCall is one Send: its message and, once it has it, its outcome.
type sendCall struct {
	call
	msg    *sluicev1.PublishMessage
	bytes  int
	result PublishResult
	err    error
}

func (s *sendCall) weight() (int, int) { return s.bytes, 1 }

func (s *sendCall) appendTo(msgs []*sluicev1.PublishMessage) []*sluicev1.PublishMessage {
	return append(msgs, s.msg)
}

func (s *sendCall) settle(results []*sluicev1.PublishResult, err error) *call {
	if err != nil {
		s.err = err
	} else {
		s.result = resultOf(results[0])
	}
	return &s.call
}

func (s *sendCall) urgent() bool { return false }

// batchCall is one SendBatch: its wire messages and, as requests are
// answered, their outcomes.
type batchCall struct {
	call
	msgs      []*sluicev1.PublishMessage
	results   []PublishResult
	stored    []bool
	remaining int
	err       error // the error of the first failed message
	failedAt  int
}

func newBatchCall(msgs []*sluicev1.PublishMessage) *batchCall {
	return &batchCall{msgs: msgs, results: make([]PublishResult, len(msgs)), stored: make([]bool, len(msgs)), remaining: len(msgs)}
}

// record notes the outcome of messages start to end (exclusive): results
// from results[0] on, or err. It returns the call once every message has
// its outcome.
func (b *batchCall) record(start, end int, results []*sluicev1.PublishResult, err error) *call {
	if err != nil {
		if b.err == nil || start < b.failedAt {
			b.err, b.failedAt = err, start
		}
	} else {
		for i := start; i < end; i++ {
			b.results[i] = resultOf(results[i-start])
			b.stored[i] = true
		}
	}
	b.remaining -= end - start
	if b.remaining == 0 {
		return &b.call
	}
	return nil
}

// outcome is what SendBatch returns once every message has its outcome.
func (b *batchCall) outcome() ([]PublishResult, error) {
	if b.err == nil {
		return b.results, nil
	}
	return nil, b.failure(b.err, b.failedAt)
}

// failure is a SendBatchError with err at index and the results known so far.
func (b *batchCall) failure(err error, index int) *SendBatchError {
	e := noneStored(err, len(b.msgs), index)
	for i, ok := range b.stored {
		if ok {
			r := b.results[i]
			e.Results[i] = &r
		}
	}
	return e
}

// firstUnconfirmed is the position of the first message not known to be stored.
func (b *batchCall) firstUnconfirmed() int {
	for i, ok := range b.stored {
		if !ok {
			return i
		}
	}
	return len(b.stored)
}

// batchPart is consecutive messages of one SendBatch that go through the
// unconfirmed bound and into a request together, as one Send's message
// does: at most a request's worth, unless it is one larger message.
type batchPart struct {
	batch      *batchCall
	start, end int
	bytes      int
}

// nextPart is the part of b that starts at message start, with sizes the
// estimated bytes of b's messages: the batcher's rule, a message that would
// take a non-empty part past maxBytes starts the next one.
func nextPart(b *batchCall, start int, sizes []int, maxMessages, maxBytes int) *batchPart {
	p := &batchPart{batch: b, start: start, end: start}
	last := min(len(sizes), start+maxMessages)
	for p.end < last && (p.end == start || p.bytes+sizes[p.end] <= maxBytes) {
		p.bytes += sizes[p.end]
		p.end++
	}
	return p
}

func (p *batchPart) weight() (int, int) { return p.bytes, p.end - p.start }

func (p *batchPart) appendTo(msgs []*sluicev1.PublishMessage) []*sluicev1.PublishMessage {
	return append(msgs, p.batch.msgs[p.start:p.end]...)
}

func (p *batchPart) settle(results []*sluicev1.PublishResult, err error) *call {
	return p.batch.record(p.start, p.end, results, err)
}

// urgent: the caller handed over all it had, so the last request need not linger.
func (p *batchPart) urgent() bool { return p.end == len(p.batch.msgs) }
