package sluice

import (
	"time"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
)

// SubscribeOption sets an optional part of a Subscribe call.
type SubscribeOption func(*subscribeConfig)

// subscribeConfig is what a Subscribe call sends on every stream it opens,
// and how it reconnects.
type subscribeConfig struct {
	open      *sluicev1.SubscribeRequest_Open
	reconnect ReconnectPolicy
}

// WithMaxInFlight caps the unacknowledged messages of this stream (broker default 100).
func WithMaxInFlight(n uint32) SubscribeOption {
	return func(c *subscribeConfig) { c.open.MaxInFlight = n }
}

// WithStart sets where the group starts, if this subscription creates it.
func WithStart(start *sluicev1.StartPosition) SubscribeOption {
	return func(c *subscribeConfig) { c.open.Start = start }
}

// WithAckDeadline sets the group's ack deadline, if this subscription creates it.
func WithAckDeadline(d time.Duration) SubscribeOption {
	return func(c *subscribeConfig) { c.open.Settings = settings(d) }
}

// WithConsumerName names this consumer in GetGroup.
func WithConsumerName(name string) SubscribeOption {
	return func(c *subscribeConfig) { c.open.ConsumerName = name }
}

// WithSubscribeReconnect sets how the subscription reconnects after its
// stream broke (default DefaultReconnectPolicy, as the Publisher's
// WithReconnect); zero fields take the default's value. With MaxAttempts
// set, that many failed attempts in a row end the subscription with the
// last attempt's error.
func WithSubscribeReconnect(p ReconnectPolicy) SubscribeOption {
	return func(c *subscribeConfig) { c.reconnect = p.withDefaults() }
}

// WithOpen edits the Subscribe request's open message directly, for fields
// no other option sets (for example the group settings' ordering, delivery
// limit or dead-letter topic when this subscription creates the group). It
// runs after the options before it, and its edits are sent on every stream
// the subscription opens.
func WithOpen(edit func(*sluicev1.SubscribeRequest_Open)) SubscribeOption {
	return func(c *subscribeConfig) { edit(c.open) }
}
