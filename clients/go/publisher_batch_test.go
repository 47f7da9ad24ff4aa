package sluice_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	sluice "github.com/sluice-broker/sluice/clients/go"
	"google.golang.org/grpc/codes"
)

func TestABatchSpanningSeveralRequestsIsStoredInOrderBeforeALaterSend(t *testing.T) {
	tap, c, ctx, topic, p := setUp(t, sluice.WithMaxBatchMessages(10))

	results, err := p.SendBatch(ctx, texts("b", 95))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r != at(uint64(i), false) {
			t.Fatalf("result %d = %v", i, r)
		}
	}
	if got, want := tap.Sizes(), []int{10, 10, 10, 10, 10, 10, 10, 10, 10, 5}; !slices.Equal(got, want) {
		t.Fatalf("requests of %v messages, want %v", got, want)
	}
	if r, err := p.Send(ctx, text("after")); err != nil || r != at(95, false) {
		t.Fatalf("Send after the batch = %v, %v", r, err)
	}
	for i, d := range readAll(t, c, topic, 95) {
		if want := fmt.Sprintf("b-%d", i); string(d.Payload) != want {
			t.Fatalf("offset %d holds %q, want %q", i, d.Payload, want)
		}
	}
	if empty, err := p.SendBatch(ctx, nil); err != nil || len(empty) != 0 {
		t.Fatalf("empty SendBatch = %v, %v", empty, err)
	}
}

func TestARefusedRequestOfABatchFailsOnlyItsMessagesAndTheErrorSaysWhichWereStored(t *testing.T) {
	_, _, ctx, _, p := setUp(t, sluice.WithMaxBatchMessages(2))

	// Requests [a b] [c(partition 7) d] [e]: the second is refused whole.
	msgs := texts("m", 5)
	msgs[2].Partition = sluice.Partition(7)
	_, err := p.SendBatch(ctx, msgs)
	var batchErr *sluice.SendBatchError
	if !errors.As(err, &batchErr) {
		t.Fatalf("SendBatch = %v, want a *SendBatchError", err)
	}
	wantCode(t, err, codes.InvalidArgument, "")
	if batchErr.Index != 2 {
		t.Fatalf("Index = %d, want 2", batchErr.Index)
	}
	wantResults(t, batchErr.Results, []*sluice.PublishResult{ptr(at(0, false)), ptr(at(1, false)), nil, nil, ptr(at(2, false))})

	// A message over the broker's --max-message-bytes (1 MiB) goes alone
	// (it is larger than a request's 1 MiB), so only it is refused.
	msgs = texts("n", 5)
	msgs[3].Payload = bytes.Repeat([]byte("x"), 1<<20+1)
	_, err = p.SendBatch(ctx, msgs)
	if !errors.As(err, &batchErr) || batchErr.Index != 3 {
		t.Fatalf("SendBatch = %v, want a *SendBatchError at index 3", err)
	}
	wantCode(t, err, codes.InvalidArgument, "")
	wantResults(t, batchErr.Results, []*sluice.PublishResult{ptr(at(3, false)), ptr(at(4, false)), ptr(at(5, false)), nil, ptr(at(6, false))})
}

func TestABatchWithAMalformedMessageIsRefusedWholeNamingItsIndex(t *testing.T) {
	_, _, ctx, _, p := setUp(t)

	msgs := texts("v", 4)
	msgs[2].Key = "\xff"
	_, err := p.SendBatch(ctx, msgs)
	var batchErr *sluice.SendBatchError
	if !errors.As(err, &batchErr) || batchErr.Index != 2 || len(batchErr.Results) != 4 || slices.ContainsFunc(batchErr.Results, func(r *sluice.PublishResult) bool { return r != nil }) {
		t.Fatalf("SendBatch = %#v", err)
	}
	wantCode(t, err, codes.InvalidArgument, "")
	// Nothing of the refused batch was stored.
	if r, err := p.Send(ctx, text("next")); err != nil || r != at(0, false) {
		t.Fatalf("Send after the refused batch = %v, %v", r, err)
	}
}

func TestABatchToAMissingTopicFailsWithNotFoundAtIndexZero(t *testing.T) {
	c := dial(t)
	p := newPublisher(t, c, "go-no-such-topic-batch")
	_, err := p.SendBatch(testContext(t), texts("x", 3))
	var batchErr *sluice.SendBatchError
	if !errors.As(err, &batchErr) || batchErr.Index != 0 {
		t.Fatalf("SendBatch = %v", err)
	}
	wantCode(t, err, codes.NotFound, "")
	wantResults(t, batchErr.Results, []*sluice.PublishResult{nil, nil, nil})
}

func TestABatchLargerThanTheUnconfirmedBoundGoesThroughInParts(t *testing.T) {
	tap, _, ctx, _, p := setUp(t, sluice.WithMaxUnconfirmedBytes(4096))

	msgs := make([]sluice.Message, 2000)
	for i := range msgs {
		msgs[i] = sluice.Message{Payload: make([]byte, 100)}
	}
	results, err := p.SendBatch(ctx, msgs)
	if err != nil {
		t.Fatal(err)
	}
	if results[0] != at(0, false) || results[1999] != at(1999, false) {
		t.Fatalf("first and last results %v, %v", results[0], results[1999])
	}
	// A message's estimate is 16 bytes, its 100-byte payload and an id of about 10.
	if most := tap.MaxUnanswered(); most*126 > 4096 {
		t.Fatalf("%d messages were unanswered at once; the bound holds about %d", most, 4096/126)
	}
}

func ptr(r sluice.PublishResult) *sluice.PublishResult { return &r }

func wantResults(t *testing.T, got, want []*sluice.PublishResult) {
	t.Helper()
	same := slices.EqualFunc(got, want, func(a, b *sluice.PublishResult) bool {
		return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
	})
	if !same {
		t.Fatalf("results %s, want %s", show(got), show(want))
	}
}

func show(rs []*sluice.PublishResult) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = "nil"
		if r != nil {
			out[i] = fmt.Sprint(*r)
		}
	}
	return fmt.Sprint(out)
}
