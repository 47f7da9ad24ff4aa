package sluice

import (
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// PublisherOption sets an optional part of a Publisher; see
// Client.Publisher for the defaults.
type PublisherOption func(*publisherConfig)

// publisherConfig is a publisher's settings, the defaults filled in.
type publisherConfig struct {
	maxBatchMessages       int
	maxBatchBytes          int
	linger                 time.Duration
	maxUnconfirmedBytes    int
	maxUnconfirmedMessages int // 0: no bound on the count
	autoMessageID          bool
	reconnect              ReconnectPolicy
}

func defaultPublisherConfig() publisherConfig {
	return publisherConfig{
		maxBatchMessages:    1000,
		maxBatchBytes:       1 << 20,
		linger:              5 * time.Millisecond,
		maxUnconfirmedBytes: 64 << 20,
		autoMessageID:       true,
		reconnect:           DefaultReconnectPolicy,
	}
}

// WithMaxBatchMessages sets the most messages in one request (default 1000).
func WithMaxBatchMessages(n int) PublisherOption {
	return func(c *publisherConfig) { c.maxBatchMessages = n }
}

// WithMaxBatchBytes sets the most bytes in one request (default 1 MiB); a
// larger message goes alone in a request of its own.
func WithMaxBatchBytes(n int) PublisherOption {
	return func(c *publisherConfig) { c.maxBatchBytes = n }
}

// WithLinger sets how long a request that is not full waits for more
// messages before it is sent (default 5 ms). With 0 a request goes out as
// soon as the publisher's writer is free, holding whatever was sent while it
// wrote the previous one: the setting for many goroutines that each wait
// for their own Send.
func WithLinger(d time.Duration) PublisherOption {
	return func(c *publisherConfig) { c.linger = d }
}

// WithMaxUnconfirmedBytes bounds the estimated bytes of messages sent or
// batched but not yet confirmed (default 64 MiB). A Send beyond it waits, in
// call order, until confirmations make room; a SendBatch goes through in
// parts that fit. A single message larger than the bound goes once nothing
// else is unconfirmed.
func WithMaxUnconfirmedBytes(n int) PublisherOption {
	return func(c *publisherConfig) { c.maxUnconfirmedBytes = n }
}

// WithMaxUnconfirmedMessages bounds the number of messages sent or batched
// but not yet confirmed, as WithMaxUnconfirmedBytes bounds their bytes
// (default 0: no bound on the count).
func WithMaxUnconfirmedMessages(n int) PublisherOption {
	return func(c *publisherConfig) { c.maxUnconfirmedMessages = n }
}

// WithAutoMessageID turns automatic message ids on or off (default on). On,
// every message without a MessageID gets a unique one, so that the broker
// stores a message resent after a reconnection only once.
func WithAutoMessageID(on bool) PublisherOption {
	return func(c *publisherConfig) { c.autoMessageID = on }
}

// WithReconnect sets the reconnection policy (default DefaultReconnectPolicy);
// zero fields take the default's value.
func WithReconnect(p ReconnectPolicy) PublisherOption {
	return func(c *publisherConfig) { c.reconnect = p.withDefaults() }
}

// check returns a codes.InvalidArgument status error naming the first bad setting.
func (c *publisherConfig) check() error {
	bad := func(what string, v any) error {
		return status.Errorf(codes.InvalidArgument, "sluice: publisher option %s must be positive, got %v", what, v)
	}
	switch {
	case c.maxBatchMessages < 1:
		return bad("max batch messages", c.maxBatchMessages)
	case c.maxBatchBytes < 1:
		return bad("max batch bytes", c.maxBatchBytes)
	case c.linger < 0:
		return status.Errorf(codes.InvalidArgument, "sluice: publisher option linger must not be negative, got %v", c.linger)
	case c.maxUnconfirmedBytes < 1:
		return bad("max unconfirmed bytes", c.maxUnconfirmedBytes)
	case c.maxUnconfirmedMessages < 0:
		return status.Errorf(codes.InvalidArgument, "sluice: publisher option max unconfirmed messages must not be negative, got %d", c.maxUnconfirmedMessages)
	}
	return c.reconnect.check()
}

// partLimits are the most messages and bytes of one part of a SendBatch:
// what one request holds and what the unconfirmed bounds can take at once.
func (c *publisherConfig) partLimits() (messages, bytes int) {
	messages, bytes = c.maxBatchMessages, min(c.maxBatchBytes, c.maxUnconfirmedBytes)
	if c.maxUnconfirmedMessages > 0 {
		messages = min(messages, c.maxUnconfirmedMessages)
	}
	return messages, bytes
}
