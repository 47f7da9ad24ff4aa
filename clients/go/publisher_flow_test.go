package sluice_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	sluice "github.com/sluice-broker/sluice/clients/go"
	"google.golang.org/grpc/codes"
)

func TestSendsBeyondTheUnconfirmedBoundWaitForConfirmations(t *testing.T) {
	tap, c, ctx, topic, p := setUp(t, sluice.WithMaxUnconfirmedMessages(1))

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := p.Send(ctx, text(fmt.Sprint(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most := tap.MaxUnanswered(); most != 1 {
		t.Fatalf("at most %d messages unanswered at once, want 1", most)
	}
	wantTopicEnd(t, c, topic, 20)
}

func TestASendWhoseContextEndsWhileItWaitsForRoomIsNotStored(t *testing.T) {
	tap, _, ctx, _, p := setUp(t, sluice.WithMaxUnconfirmedMessages(1))

	tap.Hold()
	first := sendInBackground(ctx, p, text("first"))
	tap.awaitSent(t, 1)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := p.Send(short, text("withdrawn")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send waiting for room = %v, want context.DeadlineExceeded", err)
	}
	batch, cancelBatch := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelBatch()
	_, err := p.SendBatch(batch, texts("withdrawn", 3))
	var batchErr *sluice.SendBatchError
	if !errors.As(err, &batchErr) || batchErr.Index != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SendBatch waiting for room = %v", err)
	}
	tap.Release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if r, err := p.Send(ctx, text("second")); err != nil || r != at(1, false) {
		t.Fatalf("next Send = %v, %v; want offset 1 (the withdrawn messages not stored)", r, err)
	}
}

func TestCancellingASendOnTheWireKeepsLaterResultsMatchedToTheirMessages(t *testing.T) {
	tap, c, ctx, topic, p := setUp(t)

	tap.Hold()
	sendCtx, cancel := context.WithCancel(ctx)
	abandoned := sendInBackground(sendCtx, p, text("abandoned"))
	tap.awaitSent(t, 1)
	cancel()
	if err := <-abandoned; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Send = %v, want context.Canceled", err)
	}
	tap.Release()
	// The abandoned message was on the wire: it is stored, first.
	if r, err := p.Send(ctx, text("next")); err != nil || r != at(1, false) {
		t.Fatalf("next Send = %v, %v; want offset 1", r, err)
	}
	got := readAll(t, c, topic, 2)
	if string(got[0].Payload) != "abandoned" || string(got[1].Payload) != "next" {
		t.Fatalf("stored %q, %q", got[0].Payload, got[1].Payload)
	}
}

func TestFlushAndCloseWaitForEveryConfirmation(t *testing.T) {
	tap, c, ctx, topic, p := setUp(t)

	for _, step := range []struct {
		name string
		wait func(context.Context) error
	}{{"Flush", p.Flush}, {"Close", p.Close}} {
		tap.Hold()
		errs := make([]<-chan error, 10)
		for i := range errs {
			errs[i] = sendInBackground(ctx, p, text(fmt.Sprintf("%s-%d", step.name, i)))
		}
		tap.awaitSent(t, 10)
		waited := make(chan error, 1)
		go func() { waited <- step.wait(ctx) }()
		// The responses are held: if it returned now, the check below catches it too.
		select {
		case err := <-waited:
			t.Fatalf("%s returned %v before any confirmation", step.name, err)
		default:
		}
		tap.Release()
		if err := <-waited; err != nil {
			t.Fatalf("%s = %v", step.name, err)
		}
		// Each Send's outcome is set only after its response was read.
		if n := tap.Unanswered(); n != 0 {
			t.Fatalf("%s returned with %d messages unanswered", step.name, n)
		}
		for _, sent := range errs {
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
		}
	}
	wantTopicEnd(t, c, topic, 20)
}

func TestCloseGivesUpWhenItsContextEndsAndFailsWhatIsPending(t *testing.T) {
	tap, _, ctx, _, p := setUp(t)

	tap.Hold()
	sent := sendInBackground(ctx, p, text("unconfirmed"))
	tap.awaitSent(t, 1)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := p.Close(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want context.DeadlineExceeded", err)
	}
	tap.Release()
	wantCode(t, <-sent, codes.Canceled, "")
}
