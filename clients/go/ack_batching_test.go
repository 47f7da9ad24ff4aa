package sluice_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	sluice "github.com/sluice-broker/sluice/clients/go"
	sluicev1 "github.com/sluice-broker/sluice/clients/go/gen/sluice/v1"
	"google.golang.org/grpc"
)

// heldAcks is a client stream that records the positions of each ack
// request it sends and holds the first one until release is closed.
type heldAcks struct {
	grpc.ClientStream
	mu      sync.Mutex
	sizes   []int
	entered chan struct{} // closed when the first ack request is being sent
	release chan struct{}
}

func (h *heldAcks) SendMsg(m any) error {
	if req, ok := m.(*sluicev1.SubscribeRequest); ok && req.GetAck() != nil {
		h.mu.Lock()
		h.sizes = append(h.sizes, len(req.GetAck().GetPositions()))
		first := len(h.sizes) == 1
		h.mu.Unlock()
		if first {
			close(h.entered)
			<-h.release
		}
	}
	return h.ClientStream.SendMsg(m)
}

func TestAcksMadeWhileOneIsBeingSentGoOutTogetherInOneRequest(t *testing.T) {
	held := &heldAcks{entered: make(chan struct{}), release: make(chan struct{})}
	c := dial(t, grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn,
		method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil || method != sluicev1.BrokerService_Subscribe_FullMethodName {
			return cs, err
		}
		held.ClientStream = cs
		return held, nil
	}))
	ctx := testContext(t)
	topic := newTopic(t, c, 1)
	publishN(t, c, topic, 100)

	sub, err := c.Subscribe(ctx, topic, "g", sluice.WithMaxInFlight(100))
	if err != nil {
		t.Fatal(err)
	}
	deliveries := make([]*sluice.Delivery, 100)
	for i := range deliveries {
		deliveries[i] = next(t, ctx, sub)
	}
	if err := deliveries[0].Ack(); err != nil {
		t.Fatal(err)
	}
	<-held.entered
	for _, d := range deliveries[1:] {
		if err := d.Ack(); err != nil {
			t.Fatal(err)
		}
	}
	close(held.release)
	// Close sends what is pending before it half-closes.
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	held.mu.Lock()
	sizes := slices.Clone(held.sizes)
	held.mu.Unlock()
	if !slices.Equal(sizes, []int{1, 99}) {
		t.Fatalf("positions per ack request = %v, want [1 99]", sizes)
	}
	if err := committed(ctx, c, topic, "g", 100); err != nil {
		t.Fatal(err)
	}
}
