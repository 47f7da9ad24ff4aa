package sluice

import (
	"math"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ReconnectPolicy is how a Publisher or a Subscription reconnects after
// its stream broke: the delay before retry n is InitialDelay *
// Multiplier^(n-1), capped at MaxDelay, shortened by a random fraction of up to Jitter so that clients
// that lost the same broker do not come back in lockstep.
type ReconnectPolicy struct {
	// InitialDelay is the delay before the first retry (default 100 ms).
	InitialDelay time.Duration
	// MaxDelay is the longest delay (default 5 s).
	MaxDelay time.Duration
	// Multiplier is the growth factor per attempt, at least 1 (default 2).
	Multiplier float64
	// Jitter is the largest fraction, 0 to 1, taken off a delay at random
	// (default 0.5; a negative value means none).
	Jitter float64
	// MaxAttempts is how many consecutive failed attempts end the retrying:
	// a Publisher's pending messages then fail with the last error, a
	// Subscription ends with it (default 0: unbounded).
	MaxAttempts int
}

// DefaultReconnectPolicy retries without end, after 100 ms doubling to 5 s,
// each delay shortened by up to half at random: the TypeScript client's policy.
var DefaultReconnectPolicy = ReconnectPolicy{
	InitialDelay: 100 * time.Millisecond,
	MaxDelay:     5 * time.Second,
	Multiplier:   2,
	Jitter:       0.5,
}

func (p ReconnectPolicy) withDefaults() ReconnectPolicy {
	d := DefaultReconnectPolicy
	if p.InitialDelay == 0 {
		p.InitialDelay = d.InitialDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.Multiplier == 0 {
		p.Multiplier = d.Multiplier
	}
	if p.Jitter == 0 {
		p.Jitter = d.Jitter
	}
	p.Jitter = max(p.Jitter, 0)
	return p
}

func (p ReconnectPolicy) check() error {
	if p.InitialDelay < 0 || p.MaxDelay < 0 || p.Multiplier < 1 || p.Jitter > 1 || p.MaxAttempts < 0 {
		return status.Errorf(codes.InvalidArgument, "sluice: reconnect policy %+v: delays and attempts must not be negative, Multiplier at least 1, Jitter at most 1", p)
	}
	return nil
}

// delay is the wait before retry number attempt (1 for the first retry),
// with random a number in [0, 1): within [base*(1-Jitter), base] where base
// is min(MaxDelay, InitialDelay*Multiplier^(attempt-1)). Pure.
func (p ReconnectPolicy) delay(attempt int, random float64) time.Duration {
	exp := float64(p.InitialDelay) * math.Pow(p.Multiplier, float64(max(attempt, 1)-1))
	base := min(float64(p.MaxDelay), exp) // +Inf and NaN-free: Multiplier >= 1
	return time.Duration(base * (1 - p.Jitter*random))
}

// retryable reports whether a stream that ended with err is worth reopening:
// the codes the TypeScript client retries (a transport or broker-wide
// failure), not a refusal that would come again.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.Internal, codes.Unknown, codes.Canceled, codes.DeadlineExceeded:
		return true
	}
	return false
}

// sleep waits d before a retry; false if stop or alsoStop (nil: none) is
// closed first.
func sleep(d time.Duration, stop, alsoStop <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	case <-alsoStop:
		return false
	}
}
