package sluice

// call is one accepted Send or SendBatch until it has its outcome: done is
// closed then. Calls are linked in the order they were made, so that Flush
// can wait for every call made before it, even though a call withdrawn by
// its context leaves out of turn.
type call struct {
	seq        uint64
	prev, next *call
	done       chan struct{}
}

// callList is a publisher's calls without an outcome, oldest first, and the
// Flush callers waiting for them. Not safe for concurrent use: the
// publisher's mutex guards it.
type callList struct {
	head, tail *call
	lastSeq    uint64
	flushes    []flushWaiter // in increasing seq order
}

// flushWaiter is closed once every call up to seq has its outcome.
type flushWaiter struct {
	seq  uint64
	done chan struct{}
}

// add appends c, the newest call.
func (l *callList) add(c *call) {
	l.lastSeq++
	c.seq = l.lastSeq
	c.done = make(chan struct{})
	c.prev = l.tail
	if l.tail == nil {
		l.head = c
	} else {
		l.tail.next = c
	}
	l.tail = c
}

// settle removes c, which now has its outcome, closes c.done and releases
// the flush waiters nothing older holds back.
func (l *callList) settle(c *call) {
	if c.prev == nil {
		l.head = c.next
	} else {
		c.prev.next = c.next
	}
	if c.next == nil {
		l.tail = c.prev
	} else {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
	close(c.done)
	for len(l.flushes) > 0 && (l.head == nil || l.flushes[0].seq < l.head.seq) {
		close(l.flushes[0].done)
		l.flushes = l.flushes[1:]
	}
}

// waitAll returns a channel closed once every call made so far has its
// outcome; nil when none is pending.
func (l *callList) waitAll() <-chan struct{} {
	if l.head == nil {
		return nil
	}
	w := flushWaiter{seq: l.lastSeq, done: make(chan struct{})}
	l.flushes = append(l.flushes, w)
	return w.done
}

// flushing reports whether a Flush caller waits.
func (l *callList) flushing() bool { return len(l.flushes) > 0 }
