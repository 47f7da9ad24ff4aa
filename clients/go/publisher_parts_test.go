package sluice

import (
	"slices"
	"testing"
	"time"

	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
)

func TestTheBackoffGrowsToItsCapAndJitterOnlyShortensIt(t *testing.T) {
	p := DefaultReconnectPolicy
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 7: 5 * time.Second, 1000: 5 * time.Second} {
		if got := p.delay(attempt, 0); got != want {
			t.Errorf("delay(%d) without jitter = %v, want %v", attempt, got, want)
		}
		if got := p.delay(attempt, 0.999); got < want/2 || got > want {
			t.Errorf("delay(%d) with the most jitter = %v, want within [%v, %v]", attempt, got, want/2, want)
		}
	}
	if got := (ReconnectPolicy{Jitter: -1}).withDefaults().delay(1, 0.9); got != 100*time.Millisecond {
		t.Errorf("delay without jitter = %v", got)
	}
}

// weighed is an item of a given weight, for the bound's and the batcher's tests.
type weighed struct {
	name          string
	bytes, n      int
	last          bool
	settledWith   error
	settledResult []*sluicev1.PublishResult
}

func (w *weighed) weight() (int, int) { return w.bytes, w.n }
func (w *weighed) appendTo(m []*sluicev1.PublishMessage) []*sluicev1.PublishMessage {
	for range w.n {
		m = append(m, &sluicev1.PublishMessage{Key: w.name})
	}
	return m
}
func (w *weighed) settle(rs []*sluicev1.PublishResult, err error) *call {
	w.settledResult, w.settledWith = rs, err
	return nil
}
func (w *weighed) urgent() bool { return w.last }

func names(items []item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.(*weighed).name
	}
	return out
}

func TestTheBoundGrantsInOrderAndLetsAnOversizedItemThroughAlone(t *testing.T) {
	b := unconfirmedBound{maxBytes: 100, maxMessages: 3}
	var granted []item
	grant := func(it item) { granted = append(granted, it) }
	a, big, c, d := &weighed{name: "a", bytes: 60, n: 1}, &weighed{name: "big", bytes: 500, n: 1}, &weighed{name: "c", bytes: 10, n: 1}, &weighed{name: "d", bytes: 10, n: 1}
	if !b.acquire(a) || b.acquire(big) || b.acquire(c) {
		t.Fatal("a fits; big does not; c fits but must not pass big")
	}
	b.release(60, 1, grant) // big alone, then c would pass the bytes
	if !slices.Equal(names(granted), []string{"big"}) {
		t.Fatalf("granted %v, want [big]", names(granted))
	}
	b.acquire(d)
	if got := names(b.withdraw(func(it item) bool { return it == item(c) }, grant)); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("withdrew %v", got)
	}
	b.release(500, 1, grant)
	if !slices.Equal(names(granted), []string{"big", "d"}) || b.bytes != 10 || b.messages != 1 {
		t.Fatalf("granted %v with %d bytes, %d messages in use", names(granted), b.bytes, b.messages)
	}
}

func TestFlushWaitsForOlderCallsEvenWhenALaterOneSettlesFirst(t *testing.T) {
	var l callList
	a, b, c := &call{}, &call{}, &call{}
	l.add(a)
	l.add(b)
	flushed := l.waitAll()
	l.add(c)
	closed := func() bool {
		select {
		case <-flushed:
			return true
		default:
			return false
		}
	}
	l.settle(b)
	l.settle(c)
	if closed() {
		t.Fatal("flush released while a call made before it is pending")
	}
	l.settle(a)
	if !closed() || l.head != nil || l.waitAll() != nil {
		t.Fatal("flush not released once every older call settled")
	}
}

func TestTheBatcherSealsFullRequestsAndNeverLetsAnItemTakeOnePastItsBounds(t *testing.T) {
	p := &Publisher{topic: "t", wake: make(chan struct{}, 1), cfg: publisherConfig{maxBatchMessages: 4, maxBatchBytes: 100, linger: time.Hour}}
	for _, it := range []*weighed{{name: "a", bytes: 30, n: 1}, {name: "b", bytes: 30, n: 2}, {name: "c", bytes: 50, n: 1}, {name: "d", bytes: 10, n: 1}, {name: "e", bytes: 10, n: 1}} {
		p.accept(it)
	}
	// [a b] is sealed before c would pass 100 bytes; [c d e] waits for its linger.
	if len(p.queued) != 1 || !slices.Equal(names(p.queued[0].items), []string{"a", "b"}) || len(p.queued[0].req.GetMessages()) != 3 || p.queued[0].req.GetTopic() != "t" {
		t.Fatalf("queued %d requests; first %v", len(p.queued), p.queued[0].req)
	}
	if !slices.Equal(names(p.open), []string{"c", "d", "e"}) || p.lingerTimer == nil || p.hurry {
		t.Fatalf("open %v, linger %v, hurry %v", names(p.open), p.lingerTimer, p.hurry)
	}
	p.accept(&weighed{name: "f", bytes: 10, n: 1}) // the fourth message fills it
	if len(p.queued) != 2 || !slices.Equal(names(p.queued[1].items), []string{"c", "d", "e", "f"}) || p.lingerTimer != nil {
		t.Fatalf("queued %d requests, open %v", len(p.queued), names(p.open))
	}
	p.accept(&weighed{name: "g", bytes: 10, n: 1, last: true}) // the end of a SendBatch: no linger
	if !p.hurry || p.lingerTimer != nil {
		t.Fatal("an urgent item must be sealed by the writer, not wait for the linger")
	}
	p.sealHurried()
	if len(p.queued) != 3 || p.queued[2].req.GetRequestId() != 3 {
		t.Fatalf("queued %d requests", len(p.queued))
	}
}

func TestASendBatchIsCutIntoPartsThatFitARequest(t *testing.T) {
	b := newBatchCall(make([]*sluicev1.PublishMessage, 7))
	sizes := []int{10, 10, 10, 200, 10, 10, 10}
	var parts [][2]int
	for start := 0; start < len(sizes); {
		part := nextPart(b, start, sizes, 2, 100)
		parts = append(parts, [2]int{part.start, part.end})
		start = part.end
	}
	if want := [][2]int{{0, 2}, {2, 3}, {3, 4}, {4, 6}, {6, 7}}; !slices.Equal(parts, want) {
		t.Fatalf("parts %v, want %v", parts, want)
	}
}
