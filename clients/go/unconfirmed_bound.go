package sluice

// unconfirmedBound is a publisher's bound on messages sent or batched but
// not confirmed, in bytes and optionally in count, with a FIFO of items
// waiting for room. An item is granted at once when it fits and nobody waits
// ahead; otherwise it waits, in order, until release makes room. An item
// larger than the bound by itself is granted once nothing is in use, so it
// cannot wait forever. The publisher's mutex guards it.
type unconfirmedBound struct {
	maxBytes    int
	maxMessages int // 0: no bound on the count
	bytes       int
	messages    int
	waiting     []item
}

// acquire takes room for it and reports true, or queues it and reports false.
func (b *unconfirmedBound) acquire(it item) bool {
	bytes, n := it.weight()
	if len(b.waiting) > 0 || !b.fits(bytes, n) {
		b.waiting = append(b.waiting, it)
		return false
	}
	b.bytes += bytes
	b.messages += n
	return true
}

// release gives back room and grants waiting items, in order, while they
// fit; grant is called with each, its room taken.
func (b *unconfirmedBound) release(bytes, n int, grant func(item)) {
	b.bytes -= bytes
	b.messages -= n
	for len(b.waiting) > 0 {
		it := b.waiting[0]
		wb, wn := it.weight()
		if !b.fits(wb, wn) {
			break
		}
		b.waiting[0] = nil
		b.waiting = b.waiting[1:]
		b.bytes += wb
		b.messages += wn
		grant(it)
	}
	if len(b.waiting) == 0 {
		b.waiting = nil
	}
}

// withdraw removes the waiting items for which match is true and returns
// them, in order; the items behind them may then be granted.
func (b *unconfirmedBound) withdraw(match func(item) bool, grant func(item)) []item {
	var out []item
	kept := b.waiting[:0]
	for _, it := range b.waiting {
		if match(it) {
			out = append(out, it)
		} else {
			kept = append(kept, it)
		}
	}
	clear(b.waiting[len(kept):])
	b.waiting = kept
	if len(out) > 0 {
		b.release(0, 0, grant)
	}
	return out
}

// reset forgets every waiting item and the room in use, and returns the
// items that waited, in order: the publisher failed everything.
func (b *unconfirmedBound) reset() []item {
	out := b.waiting
	b.waiting, b.bytes, b.messages = nil, 0, 0
	return out
}

func (b *unconfirmedBound) fits(bytes, n int) bool {
	if b.bytes == 0 && b.messages == 0 {
		return true
	}
	return b.bytes+bytes <= b.maxBytes && (b.maxMessages == 0 || b.messages+n <= b.maxMessages)
}
