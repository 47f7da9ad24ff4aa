package sluice

import (
	"sync/atomic"
	"time"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Delivery is one message leased to a subscription.
//
// Settle it with Ack (done: never delivered to the group again) or Nack
// (redeliver it); Extend keeps the lease while work goes on. Only the first
// Ack or Nack is sent; later ones return nil and do nothing. They queue the
// request for the subscription's sender and return; they return
// ErrSubscriptionClosed once the subscription is closed or over. A delivery
// neither acked nor extended by Deadline is redelivered with Attempt + 1.
//
// When the stream that delivered it breaks, the broker gives the message
// back to the group at once (a restarted broker has it unacknowledged). Ack
// still counts then: the broker takes acks by position from any stream of
// the group, so the ack goes on the subscription's next stream and
// acknowledges the message if the broker holds it leased to any consumer
// or waiting for redelivery; otherwise (a restarted broker that has not
// read it again yet) the ack is ignored and the message is delivered again.
// Nack and Extend, which the broker applies only to leases of the stream
// they come on, return ErrStaleDelivery. A verb made just as the stream
// breaks may be lost the same way: the message is delivered again.
type Delivery struct {
	Topic       string
	Partition   uint32
	Offset      uint64
	Key         string
	Payload     []byte
	Headers     map[string]string
	PublishTime time.Time
	MessageID   string
	// Attempt is 1 on first delivery to the group, then one more each time.
	Attempt uint32
	// Deadline is when the lease ends.
	Deadline time.Time

	sub     *Subscription
	stream  uint64 // the number of the subscription's stream it came on
	settled atomic.Bool
}

func newDelivery(sub *Subscription, stream uint64, d *sluicev1.Delivery, deadline time.Time) *Delivery {
	m := d.GetMessage()
	return &Delivery{
		Topic: m.GetTopic(), Partition: m.GetPartition(), Offset: m.GetOffset(), Key: m.GetKey(),
		Payload: m.GetPayload(), Headers: m.GetHeaders(), PublishTime: m.GetPublishTime().AsTime(),
		MessageID: m.GetMessageId(), Attempt: d.GetAttempt(), Deadline: deadline, sub: sub, stream: stream,
	}
}

// Position is the delivery's partition and offset.
func (d *Delivery) Position() Position { return Position{Partition: d.Partition, Offset: d.Offset} }

func (d *Delivery) positions() []*sluicev1.Position {
	return []*sluicev1.Position{{Partition: d.Partition, Offset: d.Offset}}
}

// Ack acknowledges the message, on the current stream or, while the
// subscription reconnects, on the next one (see Delivery). Errors:
// ErrSubscriptionClosed once the subscription is closed or over.
func (d *Delivery) Ack() error {
	if !d.settled.CompareAndSwap(false, true) {
		return nil
	}
	return d.sub.send(&sluicev1.SubscribeRequest{Request: &sluicev1.SubscribeRequest_Ack_{
		Ack: &sluicev1.SubscribeRequest_Ack{Positions: d.positions()}}}, 0)
}

// Nack gives the message back for redelivery after delay (0: at once).
// Errors: ErrSubscriptionClosed once the subscription is closed or over;
// ErrStaleDelivery once the stream it came on broke (the message was given
// back then; the delivery may still be acked).
func (d *Delivery) Nack(delay time.Duration) error {
	if !d.settled.CompareAndSwap(false, true) {
		return nil
	}
	nack := &sluicev1.SubscribeRequest_Nack{Positions: d.positions()}
	if delay > 0 {
		nack.Delay = durationpb.New(delay)
	}
	err := d.sub.send(&sluicev1.SubscribeRequest{Request: &sluicev1.SubscribeRequest_Nack_{Nack: nack}}, d.stream)
	if err == ErrStaleDelivery {
		d.settled.Store(false) // not sent
	}
	return err
}

// Extend extends the lease to deadline from now (1 s to 600 s). Errors:
// ErrSubscriptionClosed once the subscription is closed or over;
// ErrStaleDelivery once the stream it came on broke (the lease is gone).
func (d *Delivery) Extend(deadline time.Duration) error {
	return d.sub.send(&sluicev1.SubscribeRequest{Request: &sluicev1.SubscribeRequest_Extend_{
		Extend: &sluicev1.SubscribeRequest_Extend{Positions: d.positions(), Deadline: durationpb.New(deadline)}}}, d.stream)
}
