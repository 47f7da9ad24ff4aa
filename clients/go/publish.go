package sluice

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
)

// Message is a message to publish.
type Message struct {
	// Key picks the partition by hash unless Partition is set; optional.
	Key string
	// Payload is the opaque body.
	Payload []byte
	// Headers are delivered unchanged.
	Headers map[string]string
	// Partition, when not nil, is the partition to publish to.
	Partition *uint32
	// MessageID is stored and delivered with the message, and the broker
	// stores a repeat of it within the topic's dedupe window only once;
	// optional. A Publisher gives a message without one an id of its own
	// (see WithAutoMessageID).
	MessageID string
}

// Position is where a message is stored: its partition and offset.
type Position struct {
	Partition uint32
	Offset    uint64
}

// PublishResult is where a published message is stored. Duplicate is true
// when the topic already held a message with the same MessageID within its
// dedupe window: nothing new was stored, and the position is the original's.
type PublishResult struct {
	Position
	Duplicate bool
}

// Partition returns a pointer to p, for Message.Partition.
func Partition(p uint32) *uint32 { return &p }

// Publish publishes messages to topic and returns where each was stored, in
// order, once all are durably written (see PublishResult for duplicates). Errors: codes.NotFound (no such
// topic), codes.InvalidArgument (no messages, bad partition, too large),
// codes.ResourceExhausted, codes.Unavailable (safe to retry). A key, id or
// header that is not valid UTF-8 is refused here with codes.InvalidArgument,
// before anything is sent.
func (c *Client) Publish(ctx context.Context, topic string, msgs ...Message) ([]PublishResult, error) {
	req := &sluicev1.PublishRequest{Topic: topic, Messages: make([]*sluicev1.PublishMessage, len(msgs))}
	for i, m := range msgs {
		if problem := messageProblem(m); problem != "" {
			return nil, status.Errorf(codes.InvalidArgument, "sluice: message %d: %s", i, problem)
		}
		req.Messages[i] = toWire(m, "")
	}
	res, err := c.broker.Publish(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make([]PublishResult, len(res.GetResults()))
	for i, r := range res.GetResults() {
		out[i] = resultOf(r)
	}
	return out, nil
}

func resultOf(r *sluicev1.PublishResult) PublishResult {
	return PublishResult{Position: Position{Partition: r.GetPartition(), Offset: r.GetOffset()}, Duplicate: r.GetDuplicate()}
}
