package sluice_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	sluice "github.com/sluice-broker/sluice/clients/go"
	"google.golang.org/grpc/codes"
)

func TestConcurrentSendsAreStoredDenselyEachAtThePositionItsCallReturned(t *testing.T) {
	_, c, ctx, topic, p := setUp(t)
	const callers, each = 64, 40

	results := make([][]sluice.PublishResult, callers)
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for i := range each {
				r, err := p.Send(ctx, text(fmt.Sprintf("%d-%d", g, i)))
				if err != nil {
					errs <- fmt.Errorf("caller %d send %d: %w", g, i, err)
					return
				}
				results[g] = append(results[g], r)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	payloadAt := map[uint64]string{}
	for g, rs := range results {
		for i, r := range rs {
			if r.Partition != 0 || r.Duplicate || (i > 0 && r.Offset <= rs[i-1].Offset) {
				t.Fatalf("caller %d: results %v are not increasing offsets of new messages", g, rs)
			}
			payloadAt[r.Offset] = fmt.Sprintf("%d-%d", g, i)
		}
	}
	if len(payloadAt) != callers*each {
		t.Fatalf("%d distinct offsets for %d messages", len(payloadAt), callers*each)
	}
	ids := map[string]bool{}
	for _, d := range readAll(t, c, topic, callers*each) {
		if want, ok := payloadAt[d.Offset]; !ok || string(d.Payload) != want {
			t.Fatalf("offset %d holds %q; its Send was told %q", d.Offset, d.Payload, want)
		}
		if d.MessageID == "" || ids[d.MessageID] {
			t.Fatalf("offset %d: message id %q is empty or repeated", d.Offset, d.MessageID)
		}
		ids[d.MessageID] = true
	}
	wantTopicEnd(t, c, topic, callers*each)
}

func TestMessagesOfConcurrentSendsShareARequestSealedWhenFull(t *testing.T) {
	tap := newPublishTap()
	c := dial(t, tap.option())
	ctx := testContext(t)
	topic := newTopic(t, c, 1)
	// An hour's linger: only a full request goes out.
	p := newPublisher(t, c, topic, sluice.WithMaxBatchMessages(8), sluice.WithLinger(time.Hour))

	var wg sync.WaitGroup
	offsets := make(chan uint64, 8)
	for i := range 8 {
		wg.Go(func() {
			r, err := p.Send(ctx, text(fmt.Sprint(i)))
			if err != nil {
				t.Error(err)
			}
			offsets <- r.Offset
		})
	}
	wg.Wait()
	close(offsets)
	if got := tap.Sizes(); !slices.Equal(got, []int{8}) {
		t.Fatalf("requests of %v messages, want one of 8", got)
	}
	got := slices.Sorted(func(yield func(uint64) bool) {
		for o := range offsets {
			yield(o)
		}
	})
	if !slices.Equal(got, []uint64{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("offsets %v", got)
	}
}

func TestAMessageKeepsItsOwnIDAndARepeatIsAnsweredAsADuplicate(t *testing.T) {
	_, c, ctx, topic, p := setUp(t)

	m := sluice.Message{Payload: []byte("once"), MessageID: "order-17", Key: "k", Headers: map[string]string{"h": "v"}}
	first, err := p.Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if first != at(0, false) || again != at(0, true) {
		t.Fatalf("results %v then %v, want offset 0 then offset 0 duplicate", first, again)
	}
	d := readAll(t, c, topic, 1)[0]
	if d.MessageID != "order-17" || d.Key != "k" || d.Headers["h"] != "v" {
		t.Fatalf("stored %+v", d)
	}
}

func TestWithoutAutomaticIDsAMessageIsStoredWithoutID(t *testing.T) {
	_, c, ctx, topic, p := setUp(t, sluice.WithAutoMessageID(false))
	for range 2 {
		if _, err := p.Send(ctx, text("same")); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range readAll(t, c, topic, 2) {
		if d.MessageID != "" {
			t.Fatalf("message id %q, want none", d.MessageID)
		}
	}
}

func TestSendsToAMissingOrDeletedTopicFailWithNotFound(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	missing := newPublisher(t, c, fmt.Sprintf("go-no-such-topic-%d", time.Now().UnixNano()))
	_, err := missing.Send(ctx, text("x"))
	wantCode(t, err, codes.NotFound, "")

	topic := newTopic(t, c, 1)
	p := newPublisher(t, c, topic)
	if r, err := p.Send(ctx, text("before")); err != nil || r != at(0, false) {
		t.Fatalf("Send = %v, %v", r, err)
	}
	if err := c.DeleteTopic(ctx, topic); err != nil {
		t.Fatal(err)
	}
	_, err = p.Send(ctx, text("after"))
	wantCode(t, err, codes.NotFound, "")
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close = %v", err)
	}
}

func TestUnaryPublishRefusesAMessageThatIsNotValidUTF8BeforeSendingAnything(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	topic := newTopic(t, c, 1)

	_, err := c.Publish(ctx, topic, text("fine"), sluice.Message{Key: "\xff", Payload: []byte("x")})
	wantCode(t, err, codes.InvalidArgument, "sluice: message 1: the message key is not valid UTF-8")
	if end := topicEnd(t, c, topic); end != 0 {
		t.Fatalf("topic end = %d after a refused Publish, want 0", end)
	}
}

func TestMalformedMessagesBadTopicNamesAndOptionsAreRefusedWithInvalidArgument(t *testing.T) {
	_, c, ctx, topic, p := setUp(t)

	_, err := p.Send(ctx, sluice.Message{Key: "\xff", Payload: []byte("x")})
	wantCode(t, err, codes.InvalidArgument, "")
	_, err = p.Send(ctx, sluice.Message{Headers: map[string]string{"h": "\xc3"}})
	wantCode(t, err, codes.InvalidArgument, "")
	// The stream is intact: the next message is stored first.
	if r, err := p.Send(ctx, text("ok")); err != nil || r != at(0, false) {
		t.Fatalf("Send after refused messages = %v, %v", r, err)
	}

	for _, name := range []string{"", "has space", string(make([]byte, 201))} {
		_, err := c.Publisher(name)
		wantCode(t, err, codes.InvalidArgument, "")
	}
	for _, opt := range []sluice.PublisherOption{sluice.WithMaxBatchMessages(0), sluice.WithLinger(-time.Second),
		sluice.WithMaxUnconfirmedBytes(-1), sluice.WithReconnect(sluice.ReconnectPolicy{Multiplier: 0.5})} {
		_, err := c.Publisher(topic, opt)
		wantCode(t, err, codes.InvalidArgument, "")
	}
}

func TestCallsAfterCloseFailWithFailedPrecondition(t *testing.T) {
	_, c, ctx, topic, p := setUp(t)
	if _, err := p.Send(ctx, text("x")); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}

	_, err := p.Send(ctx, text("late"))
	wantCode(t, err, codes.FailedPrecondition, "")
	if !errors.Is(err, sluice.ErrPublisherClosed) {
		t.Fatalf("Send after Close = %v, want ErrPublisherClosed", err)
	}
	_, err = p.SendBatch(ctx, texts("late", 2))
	var batchErr *sluice.SendBatchError
	if !errors.As(err, &batchErr) || batchErr.Index != 0 || len(batchErr.Results) != 2 || batchErr.Results[0] != nil {
		t.Fatalf("SendBatch after Close = %#v", err)
	}
	wantCode(t, err, codes.FailedPrecondition, "")
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("Flush after Close = %v", err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	wantTopicEnd(t, c, topic, 1)
}
