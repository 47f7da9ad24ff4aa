package sluice_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	sluice "github.com/sluice-broker/sluice/clients/go"
	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestPublishedMessagesAreDeliveredInOrderWithAllTheirFields(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 1)

	got, err := c.Publish(ctx, topic,
		sluice.Message{Key: "k1", Payload: []byte("one"), Headers: map[string]string{"h": "v"}, MessageID: "id-1"},
		sluice.Message{Payload: []byte("two")},
	)
	if err != nil {
		t.Fatal(err)
	}
	if want := []sluice.PublishResult{{Position: sluice.Position{Partition: 0, Offset: 0}}, {Position: sluice.Position{Partition: 0, Offset: 1}}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("positions = %v, want %v", got, want)
	}

	sub, err := c.Subscribe(ctx, topic, "g", sluice.WithConsumerName("go-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if sub.Partitions() != 1 || sub.ConsumerID() == "" {
		t.Fatalf("subscribed: partitions %d, consumer id %q", sub.Partitions(), sub.ConsumerID())
	}
	first := next(t, ctx, sub)
	if first.Topic != topic || first.Offset != 0 || first.Key != "k1" || string(first.Payload) != "one" ||
		first.Headers["h"] != "v" || first.MessageID != "id-1" || first.Attempt != 1 ||
		first.PublishTime.IsZero() || !first.Deadline.After(time.Now()) {
		t.Fatalf("first delivery = %+v", first)
	}
	second := next(t, ctx, sub)
	if second.Offset != 1 || string(second.Payload) != "two" {
		t.Fatalf("second delivery = %+v", second)
	}
}

func TestAcksMoveTheGroupsCommittedOffset(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 1)
	publishN(t, c, topic, 3)

	sub, err := c.Subscribe(ctx, topic, "g")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for range 3 {
		if err := next(t, ctx, sub).Ack(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "committed offset 3", func() error { return committed(ctx, c, topic, "g", 3) })
}

func TestANackedMessageIsRedeliveredWithTheNextAttempt(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 1)
	publishN(t, c, topic, 1)

	sub, err := c.Subscribe(ctx, topic, "g")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	d := next(t, ctx, sub)
	if err := d.Nack(0); err != nil {
		t.Fatal(err)
	}
	again := next(t, ctx, sub)
	if again.Offset != d.Offset || again.Attempt != 2 {
		t.Fatalf("redelivery = offset %d attempt %d, want offset %d attempt 2", again.Offset, again.Attempt, d.Offset)
	}
	if err := again.Ack(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "committed offset 1", func() error { return committed(ctx, c, topic, "g", 1) })
}

func TestUnackedMessagesGoBackToTheGroupWhenASubscriptionCloses(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 1)
	publishN(t, c, topic, 2)

	first, err := c.Subscribe(ctx, topic, "g", sluice.WithMaxInFlight(2))
	if err != nil {
		t.Fatal(err)
	}
	next(t, ctx, first)
	next(t, ctx, first)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second, err := c.Subscribe(ctx, topic, "g")
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	// Redelivery order is not part of the contract; the set and attempts are.
	seen := map[uint64]uint32{}
	for range 2 {
		d := next(t, ctx, second)
		seen[d.Offset] = d.Attempt
	}
	if fmt.Sprint(seen) != "map[0:2 1:2]" {
		t.Fatalf("redelivered offset:attempt = %v, want map[0:2 1:2]", seen)
	}
}

func TestAMessageIsAckedOnlyOnceAndNotAfterClose(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 1)
	publishN(t, c, topic, 2)

	sub, err := c.Subscribe(ctx, topic, "g", sluice.WithMaxInFlight(2))
	if err != nil {
		t.Fatal(err)
	}
	d := next(t, ctx, sub)
	pending := next(t, ctx, sub)
	if err := d.Ack(); err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(); err != nil {
		t.Fatalf("second Ack = %v, want nil", err)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pending.Ack(); !errors.Is(err, sluice.ErrSubscriptionClosed) {
		t.Fatalf("Ack after Close = %v, want ErrSubscriptionClosed", err)
	}
	if _, err := sub.Next(ctx); err != io.EOF {
		t.Fatalf("Next after Close = %v, want io.EOF", err)
	}
	group, err := c.GetGroup(ctx, topic, "g")
	if err != nil {
		t.Fatal(err)
	}
	if group.GetIgnoredAcks() != 0 {
		t.Fatalf("ignored acks = %d, want 0 (the second Ack must not be sent)", group.GetIgnoredAcks())
	}
}

func TestCancellingTheContextEndsTheSubscription(t *testing.T) {
	c := dial(t)
	topic := newTopic(t, c, 1)
	ctx, cancel := context.WithCancel(testContext(t))
	sub, err := c.Subscribe(ctx, topic, "g")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = sub.Next(testContext(t))
	if status.Code(err) != codes.Canceled {
		t.Fatalf("Next after cancel = %v, want Canceled", err)
	}
	waitFor(t, "no consumers", func() error {
		g, err := c.GetGroup(testContext(t), topic, "g")
		if err != nil {
			return err
		}
		if n := len(g.GetConsumers()); n != 0 {
			return fmt.Errorf("%d consumers connected", n)
		}
		return nil
	})
}

func TestSubscribingToAMissingTopicFailsWithNotFound(t *testing.T) {
	c := dial(t)
	_, err := c.Subscribe(testContext(t), "no-such-topic", "g")
	if status.Code(err) != codes.NotFound {
		t.Fatalf("Subscribe = %v, want NotFound", err)
	}
}

func TestDeletingTheGroupEndsItsSubscriptionWithAborted(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 1)
	sub, err := c.Subscribe(ctx, topic, "g")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := c.DeleteGroup(ctx, topic, "g", false); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("DeleteGroup without force = %v, want FailedPrecondition", err)
	}
	if err := c.DeleteGroup(ctx, topic, "g", true); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Next(ctx); status.Code(err) != codes.Aborted {
		t.Fatalf("Next after the group was deleted = %v, want Aborted", err)
	}
}

func next(t *testing.T, ctx context.Context, sub *sluice.Subscription) *sluice.Delivery {
	t.Helper()
	d, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return d
}

func publishN(t *testing.T, c *sluice.Client, topic string, n int) {
	t.Helper()
	msgs := make([]sluice.Message, n)
	for i := range msgs {
		msgs[i] = sluice.Message{Payload: fmt.Appendf(nil, "m%d", i)}
	}
	if _, err := c.Publish(testContext(t), topic, msgs...); err != nil {
		t.Fatal(err)
	}
}

func committed(ctx context.Context, c *sluice.Client, topic, group string, want uint64) error {
	g, err := c.GetGroup(ctx, topic, group)
	if err != nil {
		return err
	}
	if got := g.GetPartitions()[0].GetCommittedOffset(); got != want {
		return fmt.Errorf("committed offset %d, want %d", got, want)
	}
	return nil
}

func TestWithOpenSetsGroupSettingsNoOtherOptionReaches(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 1)

	sub, err := c.Subscribe(ctx, topic, "g", sluice.WithAckDeadline(30*time.Second), sluice.WithOpen(func(o *sluicev1.SubscribeRequest_Open) {
		max := uint32(5)
		o.Settings.MaxDeliveries = &max
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	g, err := c.GetGroup(ctx, topic, "g")
	if err != nil {
		t.Fatal(err)
	}
	if s := g.GetSettings(); s.GetMaxDeliveries() != 5 || s.GetAckDeadline().AsDuration() != 30*time.Second {
		t.Fatalf("group settings = %v, want max deliveries 5 and a 30 s ack deadline", s)
	}
}
